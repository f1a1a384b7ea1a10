//! The route module `hubcert-rollover`: the whole app's page built with only the routes of one module
//! (src/app/routes.rs, `Module`; its features are in index.html), loaded first by a deep link to
//! one of them. It draws them, then loads the whole app and hands the page over, as the first
//! module does.

fn main() {
    #[cfg(target_arch = "wasm32")]
    hubcert::app::start_route_module();
}
