//! The page's first module: steps 1 to 4, which then loads the whole app (`hubcert-full`) and
//! hands the page over to it. Everything lives in the library.

fn main() {
    #[cfg(target_arch = "wasm32")]
    hubcert::app::start_first();
}
