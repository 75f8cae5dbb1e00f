import * as vega from 'vega'
import { type TopLevelSpec, compile } from 'vega-lite'

/** Compiles a vega-lite spec and renders it to a static SVG string on the server (no browser, no network). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vg = compile(spec, { config: { font: 'system-ui, sans-serif', view: { stroke: null } } }).spec
  const view = new vega.View(vega.parse(vg), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}
