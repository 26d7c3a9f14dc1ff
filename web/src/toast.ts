// Short messages in the page's corner (role=status, so screen readers say them), gone after 7 s.
export function showToast(message: string, level: 'info' | 'warn' | 'error'): void {
  let host = document.getElementById('toasts');
  if (!host) {
    host = document.createElement('div');
    host.id = 'toasts';
    host.setAttribute('role', 'status');
    document.body.appendChild(host);
  }
  const t = document.createElement('div');
  t.className = `toast toast-${level}`;
  t.textContent = message;
  host.appendChild(t);
  setTimeout(() => t.remove(), 7000);
}
