// Markdown for chat messages: marked renders, DOMPurify sanitises (both
// vendored, loaded from this origin). Links open in a new tab without an
// opener; images only load from this origin or data: (the CSP blocks the
// rest anyway).
//
// The two libraries are most of the UI's bytes, so they load after the
// first paint (preloadMarkdown); until then a message shows as plain text
// and is drawn again once they are there.

let lib = null;
let loading = null;
const waiting = new Map(); // element → text drawn as plain text so far

const PURIFY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select'],
  FORBID_ATTR: ['style'],
};

function load() {
  if (!loading) {
    loading = Promise.all([import('../vendor/marked.esm.js'), import('../vendor/purify.es.mjs')]).then(([m, p]) => {
      const marked = m.marked;
      const DOMPurify = p.default;
      marked.setOptions({ gfm: true, breaks: true });
      DOMPurify.addHook('afterSanitizeAttributes', (node) => {
        if (node.tagName === 'A') {
          node.setAttribute('target', '_blank');
          node.setAttribute('rel', 'noopener noreferrer');
        }
      });
      lib = { marked, DOMPurify };
      // One throwaway render warms both up: the first parse of a page
      // costs 50-100 ms (regex compilation, JIT), which would otherwise
      // fall on the first streamed delta.
      DOMPurify.sanitize(marked.parse('a *b* `c` [d](e)\n\n- f\n\n```\ng\n```'), PURIFY);
      for (const [el, text] of waiting) if (el.isConnected) renderMarkdown(el, text);
      waiting.clear();
    });
  }
  return loading;
}

// preloadMarkdown starts loading the libraries.
export function preloadMarkdown() {
  return load();
}

export function renderMarkdown(el, text) {
  if (!lib) {
    el.textContent = text || '';
    waiting.set(el, text || '');
    load();
    return;
  }
  waiting.delete(el);
  let html;
  try {
    // Trimmed: marked ends blocks with a newline, which would trail the
    // message's textContent.
    html = lib.marked.parse(text || '').trim();
  } catch {
    el.textContent = text || '';
    return;
  }
  el.innerHTML = lib.DOMPurify.sanitize(html, PURIFY);
}
