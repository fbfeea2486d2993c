// Import form: reads the chosen export file into the form's text area (the form also works
// without JavaScript, by pasting the file's text). What came of it is said: "File read: name"
// politely, a file the browser cannot read (gone, changed or locked since it was chosen) at once,
// the file field then marked invalid and described by that message.
document.querySelectorAll('[data-bp-import]').forEach((form) => {
  const file = form.querySelector('[data-bp-import-file]');
  const text = form.querySelector('textarea[name="document"]');
  const read = form.querySelector('[data-bp-import-read]');
  const unreadable = form.querySelector('[data-bp-import-unreadable]');
  if (!file || !text || !read || !unreadable) return;
  const own = file.getAttribute('aria-describedby');
  const say = (key, name) => (file.getAttribute(key) || '').replace('{name}', () => name);
  const valid = () => {
    file.removeAttribute('aria-invalid');
    if (own) file.setAttribute('aria-describedby', own);
    else file.removeAttribute('aria-describedby');
  };
  file.addEventListener('change', () => {
    const chosen = file.files && file.files[0];
    read.textContent = '';
    unreadable.textContent = '';
    valid();
    if (!chosen) return;
    chosen.text().then(
      (content) => {
        text.value = content;
        read.textContent = say('data-read', chosen.name);
      },
      () => {
        unreadable.textContent = say('data-unreadable', chosen.name);
        file.setAttribute('aria-invalid', 'true');
        file.setAttribute('aria-describedby', [unreadable.id, own].filter(Boolean).join(' '));
      },
    );
  });
});
