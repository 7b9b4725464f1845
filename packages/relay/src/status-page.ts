/** GET /: a live view of what the relay sees (nodes and global names), polling /status.json. */
export function statusPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Flurry relay</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Ccircle cx='16' cy='16' r='14' fill='%2323408e'/%3E%3C/svg%3E">
<style>
  :root { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; color: #1d2330; background: #f5f6f8; }
  body { margin: 0 auto; max-width: 960px; padding: 24px 16px; }
  h1 { font-size: 1.4rem; margin: 0 0 4px; }
  .id { color: #5b6478; font-family: ui-monospace, Menlo, monospace; font-size: .85rem; word-break: break-all; }
  .grid { display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); margin-top: 16px; }
  section { background: #fff; border-radius: 10px; box-shadow: 0 1px 3px rgba(0,0,0,.08); padding: 14px 16px; }
  h2 { font-size: 1rem; margin: 0 0 8px; display: flex; justify-content: space-between; }
  h2 span { color: #5b6478; font-weight: normal; }
  ul { list-style: none; margin: 0; padding: 0; }
  li { padding: 5px 0; border-bottom: 1px solid #eef0f3; font-family: ui-monospace, Menlo, monospace; font-size: .85rem; word-break: break-all; }
  li:last-child { border-bottom: 0; }
  .name { font-weight: 600; color: #23408e; }
  .empty { color: #8a93a6; font-style: italic; font-family: inherit; }
  .bad { color: #b3261e; }
  #err { color: #b3261e; min-height: 1.2em; margin-top: 8px; }
</style>
</head>
<body>
<h1>Flurry relay</h1>
<div class="id" id="id">connecting…</div>
<div id="err"></div>
<div class="grid">
  <section><h2>Nodes <span id="nodes-count"></span></h2><ul id="nodes"></ul></section>
  <section><h2>Global names <span id="names-count"></span></h2><ul id="names"></ul></section>
  <section><h2>Unreachable peers <span id="unr-count"></span></h2><ul id="unreachable"></ul></section>
</div>
<script>
const $ = (id) => document.getElementById(id)
function list(el, items, render) {
  el.replaceChildren(...(items.length ? items.map(render) : [Object.assign(document.createElement('li'), { className: 'empty', textContent: 'none' })]))
}
function li(html) { const e = document.createElement('li'); e.append(...html); return e }
function span(cls, text) { return Object.assign(document.createElement('span'), { className: cls, textContent: text }) }
async function refresh() {
  try {
    const res = await fetch('/status.json', { cache: 'no-store' })
    if (!res.ok) throw new Error('status ' + res.status)
    const s = await res.json()
    $('id').textContent = s.id
    $('err').textContent = ''
    $('nodes-count').textContent = s.nodes.length
    $('names-count').textContent = s.names.length
    $('unr-count').textContent = s.unreachable.length
    list($('nodes'), s.nodes, (n) => li([document.createTextNode(n)]))
    list($('names'), s.names, (n) => li([span('name', n.name), document.createTextNode(' → ' + n.pid)]))
    list($('unreachable'), s.unreachable, (p) => li([span('bad', p.url)]))
  } catch (e) {
    $('err').textContent = 'The relay does not answer; retrying…'
  }
}
refresh()
setInterval(refresh, 1000)
</script>
</body>
</html>
`
}
