// Check Business Portal login: "Select all shown" ticks or clears every box of the locked list. The
// list is a plain form without this script; the box is shown only once it works.
(() => {
  const all = document.getElementById('bp-select-all');
  if (!all) return;
  const boxes = [...document.querySelectorAll('table.bp-locked input[type="checkbox"][name="contactId"]')];
  const sync = () => {
    const ticked = boxes.filter((box) => box.checked).length;
    all.checked = boxes.length > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  };
  all.addEventListener('change', () => {
    for (const box of boxes) box.checked = all.checked;
    sync();
  });
  for (const box of boxes) box.addEventListener('change', sync);
  sync();
  all.closest('[hidden]')?.removeAttribute('hidden');
})();
