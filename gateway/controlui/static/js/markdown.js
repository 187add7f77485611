// Markdown for chat messages: marked renders, DOMPurify sanitises (both
// vendored, loaded from this origin). Links open in a new tab without an
// opener; images only load from this origin or data: (the CSP blocks the
// rest anyway).

import { marked } from '../vendor/marked.esm.js';
import DOMPurify from '../vendor/purify.es.mjs';

marked.setOptions({ gfm: true, breaks: true });

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

const PURIFY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select'],
  FORBID_ATTR: ['style'],
};

export function renderMarkdown(el, text) {
  let html;
  try {
    // Trimmed: marked ends blocks with a newline, which would trail the
    // message's textContent.
    html = marked.parse(text || '').trim();
  } catch {
    el.textContent = text || '';
    return;
  }
  el.innerHTML = DOMPurify.sanitize(html, PURIFY);
}
