// Small DOM helpers: elements are built with textContent only, never from HTML strings.
import { describeError } from './api.js';

export const $ = (selector) => document.querySelector(selector);

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'onclick') node.addEventListener('click', value);
    else if (key.startsWith('data-') || key.startsWith('aria-') || key === 'class' || key === 'type') node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

export function showError(err) {
  const box = $('#error');
  box.textContent = describeError(err);
  box.hidden = false;
}

export function clearError() {
  const box = $('#error');
  box.textContent = '';
  box.hidden = true;
}

/** Runs an action from a button or form: errors go to the alert box, the button is busy meanwhile. */
export async function act(button, action) {
  clearError();
  if (button) button.disabled = true;
  try {
    await action();
  } catch (err) {
    showError(err);
  } finally {
    if (button) button.disabled = false;
  }
}

/** Binds a form's submit to an action that receives its values. */
export function onSubmit(form, action) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    void act(form.querySelector('button[type=submit]'), () => action(values, form));
  });
}

export const time = (ms) => new Date(ms).toLocaleTimeString();
