import * as vega from 'vega'
import { type TopLevelSpec, compile } from 'vega-lite'

/** Compiles a vega-lite spec and renders it to a static SVG string on the server (no browser, no network). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // No text is ever cut to a pixel limit (vega's defaults cut legend labels at 160 px and axis labels at
  // 180 px with "…"): limit 0 = none; autosize "pad" grows the SVG to contain every label and title.
  const vg = compile(spec, {
    config: {
      font: 'system-ui, sans-serif',
      view: { stroke: null },
      autosize: { type: 'pad', contains: 'padding' },
      padding: 8,
      axis: { labelLimit: 0, titleLimit: 0 },
      legend: { labelLimit: 0, titleLimit: 0 },
      title: { limit: 0 },
    },
  }).spec
  const view = new vega.View(vega.parse(vg), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}
