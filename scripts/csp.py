#!/usr/bin/env python3
"""Writes the page's Content-Security-Policy into the built index.html, and the build's file list
and id into the service worker (a Trunk post_build hook).

The policy names everything the page may load or call and nothing else: its own files, WebAssembly,
Trunk's inline loader (by its SHA-256, computed here because its file names change every build),
IoT Hub, DPS and Azure Resource Manager over https/wss, and loopback (localhub, the relay). Hosts
that can send headers should send the same policy as a header too (the README gives it), since
`frame-ancestors` only works there.
"""
import base64
import hashlib
import json
import os
import re
import sys

CONNECT = [
    "'self'",
    "https://management.azure.com",
    "https://*.azure-devices.net",
    "wss://*.azure-devices.net",
    "https://*.azure-devices-provisioning.net",
    "wss://*.azure-devices-provisioning.net",
    "http://127.0.0.1:*",
    "http://localhost:*",
    "https://127.0.0.1:*",
    "https://localhost:*",
    "ws://127.0.0.1:*",
    "ws://localhost:*",
    "wss://127.0.0.1:*",
    "wss://localhost:*",
]


def policy(script_hashes):
    scripts = " ".join(["'self'", "'wasm-unsafe-eval'"] + [f"'sha256-{h}'" for h in script_hashes])
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {scripts}",
            "style-src 'self'",
            "img-src 'self'",
            "manifest-src 'self'",
            "worker-src 'self'",
            f"connect-src {' '.join(CONNECT)}",
            "base-uri 'none'",
            "form-action 'none'",
            "object-src 'none'",
        ]
    )


def service_worker(staging):
    """Fills in the service worker's file list and build id: every file of the build, and a hash
    of their contents (a new deployment is a new id)."""
    sw = os.path.join(staging, "sw.js")
    if not os.path.exists(sw):
        return None
    files = sorted(
        os.path.relpath(os.path.join(d, f), staging).replace(os.sep, "/")
        for d, _, fs in os.walk(staging)
        for f in fs
        if f != "sw.js"
    )
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode())
        with open(os.path.join(staging, name), "rb") as f:
            digest.update(hashlib.sha256(f.read()).digest())
    build = digest.hexdigest()[:16]
    # The whole app's and the worker's files are named without a content hash (Trunk names them by
    # binary): the page asks for them with the build id, so no cache (the previous build's service
    # worker included) can hand a new page an old whole app or worker.
    urls = ["./"] + ["./" + versioned(f, build) for f in files if f != "index.html"]
    loader = os.path.join(staging, "batch-worker_loader.js")
    if os.path.exists(loader):
        with open(loader, encoding="utf-8") as f:
            shim = f.read()
        for name in WORKER[:2]:
            shim = shim.replace(f'"./{name}"', f'"./{versioned(name, build)}"')
        with open(loader, "w", encoding="utf-8") as f:
            f.write(shim)
    with open(sw, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("__HUBCERT_BUILD__", build).replace("__HUBCERT_FILES__", json.dumps(urls))
    with open(sw, "w", encoding="utf-8") as f:
        f.write(text)
    return build


FULL = ("hubcert-full.js", "hubcert-full_bg.wasm")
WORKER = ("batch-worker.js", "batch-worker_bg.wasm", "batch-worker_loader.js")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def route_modules():
    """The route table's modules (src/app/routes.rs): {route id: bin}, for the routes a module
    other than the first draws. Checked against index.html: each such bin is built there with the
    `route-<id>` feature of each of its routes, or the build stops."""
    with open(os.path.join(ROOT, "src", "app", "routes.rs"), encoding="utf-8") as f:
        table = f.read()
    rows = re.findall(r'Place \{.*?id: "([^"]*)".*?module: Module::(\w+),.*?\}', table, flags=re.S)
    if len(rows) < 2:
        sys.exit("csp.py: the route table of src/app/routes.rs was not found")
    with open(os.path.join(ROOT, "index.html"), encoding="utf-8") as f:
        source = f.read()
    links = {}
    for tag in re.findall(r"<link[^>]*data-trunk[^>]*>", source):
        bin_ = re.search(r'data-bin="([^"]+)"', tag)
        feats = re.search(r'data-cargo-features="([^"]*)"', tag)
        if bin_:
            links[bin_.group(1)] = set((feats.group(1) if feats else "").split(","))
    modules = {}
    for route, module in rows:
        if module == "First":
            continue
        bin_ = "hubcert-" + module.lower()
        if f"route-{route}" not in links.get(bin_, set()):
            sys.exit(f"csp.py: route '{route}' is drawn by module {module}, but index.html builds no {bin_} with feature route-{route}")
        modules[route] = bin_
    return modules


def module_files(modules):
    return tuple(f"{b}{ext}" for b in sorted(set(modules.values())) for ext in (".js", "_bg.wasm"))


MODULES = route_modules()
ROUTE_FILES = module_files(MODULES)


def versioned(name, build):
    return f"{name}?v={build}" if name in FULL + WORKER + ROUTE_FILES else name


def sri(path):
    with open(path, "rb") as f:
        return "sha384-" + base64.b64encode(hashlib.sha384(f.read()).digest()).decode()


def loader(html, staging, build, integrity):
    """Trunk's loader starts the first module; this one starts the module that draws the route in
    the address (a deep link to #/register loads the hub's module, not the first one), fetching
    its WebAssembly while its JavaScript loads. It says so as Trunk's loader does
    (`TrunkApplicationStarted`). The first module's preload links go: on a route another module
    draws they would only take the link's bandwidth.

    It is a classic script for the top of <head> (returned apart from the page, which loses
    Trunk's): a module script runs only once the page is parsed and its style sheet is in, a round
    trip and the sheet later. The module starts once the page is parsed (it draws into <body>)."""
    m = re.search(r'<script type="module">\s*import init, \* as bindings from \'\./(hubcert-[0-9a-f]+\.js)\';\s*'
                  r"const wasm = await init\(\{ module_or_path: '\./(hubcert-[0-9a-f]+_bg\.wasm)' \}\);.*?</script>", html, flags=re.S)
    if not m:
        sys.exit("csp.py: Trunk's loader for the first module was not found in index.html")
    first_js, first_wasm = m.group(1), m.group(2)
    first = {"js": f"./{first_js}", "wasm": f"./{first_wasm}", "integrity": sri(os.path.join(staging, first_wasm))}
    def snippets(js):
        with open(os.path.join(staging, js.split("?")[0]), encoding="utf-8") as f:
            return ["./" + p for p in re.findall(r"from '\./(snippets/[^']+)'", f.read())]

    first["snippets"] = snippets(first_js)
    table = {}
    for route, bin_ in MODULES.items():
        js, wasm = f"{bin_}.js", f"{bin_}_bg.wasm"
        # The build id is added by the loader from the page's meta tag, so that the loader's text
        # (and so its hash in the policy) does not change with it.
        table[route] = {"js": f"./{js}", "wasm": f"./{wasm}",
                        "integrity": sri(os.path.join(staging, wasm)), "snippets": snippets(js)}
        integrity["./" + versioned(js, build)] = sri(os.path.join(staging, js))
    script = (
        "<script>\n"
        "(async () => {\n"
        f"const routes = {json.dumps(table)};\n"
        f"const first = {json.dumps(first)};\n"
        'const id = location.hash.replace(/^#\\/?/, "").replace(/\\/+$/, "");\n'
        "const build = (document.querySelector('meta[name=\"hubcert-build\"]') || {}).content;\n"
        "const own = Object.prototype.hasOwnProperty.call(routes, id);\n"
        "const m = own ? routes[id] : first;\n"
        "const at = (url) => (own && build ? `${url}?v=${build}` : url);\n"
        "const wasmFile = fetch(at(m.wasm), { integrity: m.integrity });\n"
        "for (const href of m.snippets) {\n"
        '  const l = document.createElement("link");\n'
        '  l.rel = "modulepreload"; l.href = href; document.head.append(l);\n'
        "}\n"
        'const parsed = document.readyState === "loading"\n'
        '  ? new Promise((done) => document.addEventListener("DOMContentLoaded", done, { once: true })) : null;\n'
        "const bindings = await import(at(m.js));\n"
        "if (parsed) await parsed;\n"
        "const wasm = await bindings.default({ module_or_path: wasmFile });\n"
        "window.wasmBindings = bindings;\n"
        'dispatchEvent(new CustomEvent("TrunkApplicationStarted", {detail: {wasm}}));\n'
        "})();\n"
        "</script>"
    )
    html = html[: m.start()] + html[m.end():]
    # The first module's preloads (its JavaScript, snippets and WebAssembly).
    html = re.sub(r'<link rel="(?:modulepreload|preload)" href="\./(?:hubcert-[0-9a-f]+(?:_bg\.wasm|\.js)|snippets/[^"]+)"[^>]*>', "", html)
    return html, script


def whole_app(staging, build):
    """What the first module needs to load the whole app: its URLs (with the build id) and their
    Subresource Integrity, as a meta tag (the WebAssembly, fetched by the first module with it)
    and an import map (the JavaScript module, which import() checks against it)."""
    js, wasm = (os.path.join(staging, f) for f in FULL)
    if not (build and os.path.exists(js) and os.path.exists(wasm)):
        return "", None
    js_url, wasm_url = (versioned(f, build) for f in FULL)
    integrity = {f"./{js_url}": sri(js)}
    tag = (
        f'<meta name="hubcert-full" content="{js_url}" data-wasm="{wasm_url}" '
        f'data-wasm-integrity="{sri(wasm)}" />'
    )
    return tag, integrity


def main():
    staging = os.environ.get("TRUNK_STAGING_DIR") or (sys.argv[1] if len(sys.argv) > 1 else None)
    if not staging:
        sys.exit("csp.py: TRUNK_STAGING_DIR is unset (run it as a Trunk post_build hook, or pass the dist directory)")
    path = os.path.join(staging, "index.html")
    with open(path, encoding="utf-8") as f:
        html = f.read()
    if 'http-equiv="Content-Security-Policy"' in html:
        return
    # The build id, shown by the page and used by the service worker (computed over the files
    # as they are before this meta tag is added; index.html is fetched from the network first).
    build = service_worker(staging)
    full, integrity = whole_app(staging, build)
    start = None
    if integrity is not None:
        html, start = loader(html, staging, build, integrity)
        importmap = json.dumps({"imports": {}, "integrity": integrity})
        full += f'\n    <script type="importmap">{importmap}</script>\n    {start}'
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.S)
    if start is not None:
        inline.append(importmap)
        inline.append(start[len("<script>"):-len("</script>")])
    hashes = [base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode() for s in inline]
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy(hashes)}" />'
    if build:
        meta += f'\n    <meta name="hubcert-build" content="{build}" />'
    if full:
        meta += "\n    " + full
    # First in <head>, before anything it governs.
    html, n = re.subn(r"(<head[^>]*>)", lambda m: m.group(1) + "\n    " + meta, html, count=1)
    if n != 1:
        sys.exit("csp.py: no <head> in index.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(html)
    print(f"csp.py: Content-Security-Policy written ({len(hashes)} inline script hash(es))")


if __name__ == "__main__":
    main()
