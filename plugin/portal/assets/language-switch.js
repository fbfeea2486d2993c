// Progressive enhancement: the language dropdown applies itself; without JavaScript its button does.
document.addEventListener('DOMContentLoaded', () => {
  for (const select of document.querySelectorAll('select[data-auto-submit]')) {
    const form = select.form;
    const button = form && form.querySelector('[data-auto-submit-button]');
    if (button) button.hidden = true;
    select.addEventListener('change', () => form && form.requestSubmit());
  }
});
