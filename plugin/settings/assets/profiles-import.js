// Import form: reads the chosen export file into the form's text area (the form also works
// without JavaScript, by pasting the file's text).
document.querySelectorAll('[data-bp-import]').forEach((form) => {
  const file = form.querySelector('[data-bp-import-file]');
  const text = form.querySelector('textarea[name="document"]');
  if (!file || !text) return;
  file.addEventListener('change', () => {
    const chosen = file.files && file.files[0];
    if (!chosen) return;
    chosen.text().then((content) => {
      text.value = content;
    });
  });
});
