// Progressive enhancements of the portal workspace; every page works without them.
document.addEventListener('DOMContentLoaded', () => {
  // Full screen (Fullscreen API): the button appears only where the browser offers it.
  const toggle = document.querySelector('[data-fullscreen]');
  if (toggle && document.fullscreenEnabled) {
    toggle.hidden = false;
    const sync = () => {
      const on = Boolean(document.fullscreenElement);
      toggle.textContent = on ? toggle.dataset.labelExit : toggle.dataset.labelEnter;
      toggle.setAttribute('aria-pressed', String(on));
    };
    toggle.addEventListener('click', () => {
      const request = document.fullscreenElement ? document.exitFullscreen() : document.documentElement.requestFullscreen();
      Promise.resolve(request).catch(() => undefined);
    });
    document.addEventListener('fullscreenchange', sync);
    sync();
  }

  // The menu starts folded on narrow screens (it is open without JavaScript).
  const fold = document.querySelector('[data-menu-fold]');
  if (fold && window.matchMedia('(max-width: 45em)').matches) fold.open = false; // workspace.css's breakpoint
  // Where it folds (its toggle shows), Escape folds the open menu and the focus goes back to the toggle.
  if (fold) {
    fold.addEventListener('keydown', (event) => {
      const toggle = fold.querySelector('summary');
      if (event.key !== 'Escape' || !fold.open || !toggle || toggle.getClientRects().length === 0) return;
      fold.open = false;
      toggle.focus();
    });
  }

  // Column filters that are selects apply themselves (auto-submit.js, with the language menu).

  // Uploads: drop a file on the zone (the file picker keeps working).
  for (const zone of document.querySelectorAll('[data-drop-zone]')) {
    const input = zone.querySelector('input[type="file"]');
    const chosen = zone.querySelector('[data-drop-chosen]');
    if (!input) continue;
    const show = () => {
      const file = input.files && input.files[0];
      if (chosen) chosen.textContent = file ? (input.dataset.chosenLabel || '{name}').replace('{name}', file.name) : '';
    };
    input.addEventListener('change', show);
    // The portal's own "Choose a file" in the page's language, in place of the browser's (see record.hbs).
    const pick = zone.querySelector('[data-drop-pick]');
    if (pick) {
      pick.hidden = false;
      zone.classList.add('bp-drop-ready');
      pick.addEventListener('click', () => input.click());
    }
    for (const type of ['dragenter', 'dragover']) {
      zone.addEventListener(type, (event) => {
        event.preventDefault();
        zone.classList.add('bp-drop-active');
      });
    }
    for (const type of ['dragleave', 'dragend']) zone.addEventListener(type, () => zone.classList.remove('bp-drop-active'));
    zone.addEventListener('drop', (event) => {
      event.preventDefault();
      zone.classList.remove('bp-drop-active');
      const files = event.dataTransfer && event.dataTransfer.files;
      if (!files || files.length === 0) return;
      const transfer = new DataTransfer();
      transfer.items.add(files[0]);
      input.files = transfer.files;
      show();
    });
  }

  // A form that does its work once (data-once; the server makes sure of it, see form-submissions.ts)
  // says it is sending, and a second click or Enter while it is sends nothing more.
  for (const form of document.querySelectorAll('form[data-once]')) {
    form.addEventListener('submit', (event) => {
      if (event.defaultPrevented) return;
      if (form.dataset.sending === 'true') {
        event.preventDefault();
        return;
      }
      form.dataset.sending = 'true';
      form.setAttribute('aria-busy', 'true');
      for (const button of form.querySelectorAll('button[type="submit"], button:not([type])')) {
        button.dataset.idleLabel = button.textContent;
        if (form.dataset.sendingLabel) button.textContent = form.dataset.sendingLabel;
        button.setAttribute('aria-disabled', 'true');
      }
    });
  }
  // Back to this page from the browser's back/forward cache: its forms can be sent again.
  window.addEventListener('pageshow', (event) => {
    if (!event.persisted) return;
    for (const form of document.querySelectorAll('form[data-once][data-sending]')) {
      delete form.dataset.sending;
      form.removeAttribute('aria-busy');
      for (const button of form.querySelectorAll('[aria-disabled][data-idle-label]')) {
        button.textContent = button.dataset.idleLabel;
        delete button.dataset.idleLabel;
        button.removeAttribute('aria-disabled');
      }
    }
  });
});
