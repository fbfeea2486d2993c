// Progressive enhancement: selects marked data-auto-submit (the language menu, a list's column
// filters) apply themselves when picked with the pointer; without JavaScript their form's button
// does. Arrow keys change a closed select at once: a choice made with the keyboard waits for Enter
// or the button, so browsing the options does not reload the page (WCAG 3.2.2, on input).
document.addEventListener('DOMContentLoaded', () => {
  for (const select of document.querySelectorAll('select[data-auto-submit]')) {
    const form = select.form;
    const button = form && form.querySelector('[data-auto-submit-button]');
    if (button) button.hidden = true;
    let byKeyboard = false;
    select.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && form) {
        event.preventDefault();
        form.requestSubmit();
      } else if (event.key !== 'Tab') {
        byKeyboard = true;
      }
    });
    select.addEventListener('pointerdown', () => { byKeyboard = false; });
    select.addEventListener('change', () => {
      if (!byKeyboard) return form && form.requestSubmit();
      if (button) button.hidden = false;
    });
  }
});
