/**
 * The path of a request URL with every query value replaced, for log lines: query strings
 * carry tokens often enough (`?token=wag_...`) that none is logged as sent. Names stay, so a
 * log still says which parameters a call used.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const names = url
    .slice(q + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => `${safeName(pair.split('=')[0])}=[redacted]`);
  return names.length ? `${url.slice(0, q)}?${names.join('&')}` : url.slice(0, q);
}

// A name can itself be the secret (`?wag_abc`); only short, plain names are kept.
const safeName = (name: string): string => (/^[A-Za-z0-9_.-]{1,40}$/.test(name) && !name.startsWith('wag_') ? name : '[redacted]');
