//! The hub's CA certificates, each with its delete button.

use super::*;

#[derive(Properties, PartialEq)]
pub(super) struct HubCaTableProps {
    pub(super) list: Vec<HubCertificate>,
    /// The name whose delete button asks to be clicked again.
    pub(super) confirming: Option<String>,
    /// "Delete" pressed for a certificate name.
    pub(super) ondelete: Callback<String>,
}

#[component]
pub(super) fn HubCaTable(props: &HubCaTableProps) -> Html {
    if props.list.is_empty() {
        return html! { <p class="hint">{"No CA certificates on this hub yet."}</p> };
    }
    html! {
        <div class="table-wrap">
        <table>
            <thead><tr><th>{"Name"}</th><th>{"Subject"}</th><th>{"SHA-1 thumbprint"}</th><th>{"Expires"}</th><th>{"Verified"}</th><th><span class="sr-only">{"Actions"}</span></th></tr></thead>
            <tbody>
            { for props.list.iter().map(|c| {
                let confirming = props.confirming.as_deref() == Some(c.name.as_str());
                let name = c.name.clone();
                html! {
                <tr key={c.name.clone()}>
                    <td>{&c.name}</td>
                    <td>{&c.subject}</td>
                    <td><code class="thumb">{&c.thumbprint}</code></td>
                    <td>{&c.expiry}</td>
                    <td>{ verified_badge(c.is_verified) }</td>
                    <td><button type="button" class={classes!("secondary", "small", confirming.then_some("danger"))} id={format!("hub-delete-{}", c.name)} onclick={props.ondelete.reform(move |_: MouseEvent| name.clone())}>
                        { if confirming { "Click again to delete" } else { "Delete" } }
                    </button></td>
                </tr>
            }}) }
            </tbody>
        </table>
        </div>
    }
}
