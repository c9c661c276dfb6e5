// A small well-formedness checker for the SVG (XML) and HTML the report writes: every tag
// closes in order, attribute values are quoted, text and attributes hold no raw `<` and only
// valid entities. Returns how many of each element it saw, so tests can count polylines.
// Not a parser for arbitrary HTML: it knows the void elements and nothing about optional end tags.

const VOID = new Set(["meta", "br", "hr", "img", "input", "link", "wbr", "col", "source"]);
const ENTITY = /&(?:amp|lt|gt|quot|apos|#39|#\d{1,7}|#x[0-9a-fA-F]{1,6});/y;
const NAME = /[A-Za-z][A-Za-z0-9:_-]*/y;

export class MarkupError extends Error {
  constructor(message: string, at: number, src: string) {
    super(`${message} at ${at}: …${JSON.stringify(src.slice(Math.max(0, at - 40), at + 40))}…`);
    this.name = "MarkupError";
  }
}

function checkText(src: string, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const c = src[i];
    if (c === "<") throw new MarkupError("raw < in text", i, src);
    if (c === "&") {
      ENTITY.lastIndex = i;
      if (!ENTITY.test(src)) throw new MarkupError("bad entity", i, src);
    }
  }
}

/** Throws MarkupError unless `src` is well-formed; returns element name → count. */
export function checkMarkup(src: string, opts: { html?: boolean } = {}): Map<string, number> {
  const counts = new Map<string, number>();
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  if (opts.html) {
    const m = /^<!doctype html>/i.exec(src);
    if (!m) throw new MarkupError("missing <!doctype html>", 0, src);
    i = m[0].length;
  }
  while (i < src.length) {
    const lt = src.indexOf("<", i);
    const end = lt === -1 ? src.length : lt;
    checkText(src, i, end);
    if (lt === -1) break;
    if (stack.length === 0 && src.slice(i, end).trim() !== "") throw new MarkupError("text outside the root", i, src);
    i = lt;
    if (src.startsWith("<!--", i)) {
      const close = src.indexOf("-->", i + 4);
      if (close === -1) throw new MarkupError("unclosed comment", i, src);
      i = close + 3;
      continue;
    }
    const closing = src[i + 1] === "/";
    NAME.lastIndex = i + (closing ? 2 : 1);
    const nm = NAME.exec(src);
    if (!nm || nm.index !== i + (closing ? 2 : 1)) throw new MarkupError("bad tag name", i, src);
    const name = nm[0];
    let j = NAME.lastIndex;
    if (closing) {
      while (/\s/.test(src[j] ?? "")) j++;
      if (src[j] !== ">") throw new MarkupError(`bad end tag </${name}`, i, src);
      const open = stack.pop();
      if (open !== name) throw new MarkupError(`</${name}> closes <${open ?? "nothing"}>`, i, src);
      i = j + 1;
      continue;
    }
    // Attributes: name="value" (value without < and with valid entities).
    const seen = new Set<string>();
    for (;;) {
      const ws = j;
      while (/\s/.test(src[j] ?? "")) j++;
      if (src[j] === ">" || src.startsWith("/>", j)) break;
      if (j === ws) throw new MarkupError("attributes must be separated by space", j, src);
      NAME.lastIndex = j;
      const an = NAME.exec(src);
      if (!an || an.index !== j) throw new MarkupError("bad attribute name", j, src);
      if (seen.has(an[0])) throw new MarkupError(`duplicate attribute ${an[0]}`, j, src);
      seen.add(an[0]);
      j = NAME.lastIndex;
      if (src[j] !== "=" || src[j + 1] !== '"') throw new MarkupError(`attribute ${an[0]} needs ="…"`, j, src);
      const q = src.indexOf('"', j + 2);
      if (q === -1) throw new MarkupError("unclosed attribute value", j, src);
      checkText(src, j + 2, q);
      j = q + 1;
    }
    const selfClosing = src.startsWith("/>", j);
    i = j + (selfClosing ? 2 : 1);
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (stack.length === 0) roots++;
    if (roots > 1) throw new MarkupError("more than one root element", lt, src);
    if (selfClosing || (opts.html && VOID.has(name.toLowerCase()))) continue;
    if (opts.html && (name === "style" || name === "script")) {
      const close = src.indexOf(`</${name}>`, i);
      if (close === -1) throw new MarkupError(`unclosed <${name}>`, i, src);
      i = close + name.length + 3;
      continue;
    }
    stack.push(name);
  }
  if (stack.length > 0) throw new MarkupError(`unclosed <${stack[stack.length - 1]}>`, src.length, src);
  if (roots !== 1) throw new MarkupError("no root element", 0, src);
  return counts;
}

/** The values of one attribute over all elements of one name, e.g. every polyline's points. */
export function attrs(src: string, element: string, attr: string): string[] {
  const out: string[] = [];
  for (const m of src.matchAll(new RegExp(`<${element}\\b[^>]*>`, "g"))) {
    const a = new RegExp(`\\s${attr}="([^"]*)"`).exec(m[0]);
    if (a) out.push(a[1]!);
  }
  return out;
}

/** Every SVG in an HTML page. */
export function svgsOf(html: string): string[] {
  return [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
}
