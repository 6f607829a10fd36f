import { instance } from "@viz-js/viz";

/** Graphviz (compiled to WebAssembly) lays the graph out and draws it as SVG. */
export async function renderSvg(dot: string): Promise<string> {
  const viz = await instance();
  return viz.renderString(dot, { format: "svg", engine: "dot" });
}
