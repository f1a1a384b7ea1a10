//! What the first module draws in place of a part only the whole app has ([`Later`]), and how
//! such a part asks for the whole app ([`FirstContext`]): shared by the first module and the
//! steps and cards that hold those parts.

use yew::prelude::*;

/// Where the rest of the app is.
#[derive(Clone, PartialEq)]
pub(crate) enum Rest {
    Loading,
    /// Loaded: the page is being handed over.
    Ready,
    Failed(String),
}

/// What the parts that only the whole app has use to ask for it.
#[derive(Clone, PartialEq)]
pub(crate) struct FirstContext {
    pub(crate) rest: Rest,
    /// The user opened the part with this id: the whole app opens it again.
    pub(crate) ask: Callback<String>,
    pub(crate) retry: Callback<()>,
}

/// "Loading the rest of hubcert…", or why it did not load and a way to try again.
#[component]
pub(crate) fn RestStatus() -> Html {
    let Some(context) = use_context::<FirstContext>() else {
        return html! {};
    };
    let waiting = match &context.rest {
        // Loaded, and held back by a request or a device connection under way.
        Rest::Ready if super::browser::is_busy() => "The rest of hubcert is here: it opens when the request or device connection under way ends (disconnect the device test to go on now).",
        Rest::Loading | Rest::Ready => "Loading the rest of hubcert (about 0.9 MB, once; then kept for offline use)…",
        Rest::Failed(_) => "",
    };
    match &context.rest {
        Rest::Loading | Rest::Ready => html! {
            <p class="progress rest-status" role="status" aria-live="polite">
                <span class="spinner" aria-hidden="true"></span>
                <span>{waiting}</span>
            </p>
        },
        Rest::Failed(why) => {
            let retry = context.retry.clone();
            html! {
                <div class="rest-status" role="alert">
                    <p class="error">{format!("The rest of hubcert did not load: {why}. What this page shows still works; check the connection, then try again.")}</p>
                    <button type="button" class="secondary" id="rest-retry" onclick={Callback::from(move |_| retry.emit(()))}>{"Try again"}</button>
                </div>
            }
        }
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct LaterProps {
    /// The id the whole app's part has: it opens there after the handover.
    pub(crate) id: AttrValue,
    pub(crate) summary: AttrValue,
    #[prop_or_default]
    pub(crate) class: Classes,
}

/// A part only the whole app has, in the first module: a `<details>` like the part itself that,
/// opened, asks for it (it opens again once the page is handed over).
#[component]
pub(crate) fn Later(props: &LaterProps) -> Html {
    let context = use_context::<FirstContext>();
    let ontoggle = {
        let (context, id) = (context.clone(), props.id.to_string());
        Callback::from(move |e: Event| {
            let open = e
                .target_dyn_into::<web_sys::HtmlDetailsElement>()
                .is_some_and(|d| d.open());
            if let (true, Some(c)) = (open, &context) {
                c.ask.emit(id.clone());
            }
        })
    };
    html! {
        <details class={props.class.clone()} id={props.id.clone()} {ontoggle}>
            <summary>{props.summary.clone()}</summary>
            <RestStatus />
        </details>
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct LaterRouteProps {
    pub(crate) route: super::routes::Route,
}

/// A route another module draws, in a route module: its heading, and the rest of hubcert loading.
#[component]
pub(crate) fn LaterRoute(props: &LaterRouteProps) -> Html {
    let place = props.route.place();
    let section = place.sections.first().copied().unwrap_or("step-later");
    html! {
        <section class="step" id={section} aria-labelledby={format!("{section}-title")}>
            <div class="step-head">
                <div>
                    <h2 id={format!("{section}-title")}>{place.title}</h2>
                    <p class="lede">{place.what}</p>
                </div>
            </div>
            <RestStatus />
        </section>
    }
}
