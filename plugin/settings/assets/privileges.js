// The privileges editor of a portal profile: progressive JavaScript over a page the server has
// already filled with every current value. Each section is saved on its own as JSON through
// `PUT {profile}/sections/{section}` (CSRF token in `X-CSRF-Token`, body `{version, value}`);
// after a save the section is drawn again from the server's page, so what you see is what was
// stored, and the server's notices and problems appear next to the section.
// Drag and drop by SortableJS (served from the package); every move also has buttons.
// A module's fields and list columns are drawn when its part is opened (or the rule form needs its
// fields): `GET {profile}/privileges/modules/{module}?version=…` answers that part of the page, of
// the same revision; a module never opened is saved without them, and the server keeps what it has.
(function () {
  'use strict';
  var root = document.querySelector('[data-bp-privileges]');
  if (!root) return;
  var context = JSON.parse(root.getAttribute('data-context') || '{}');
  var texts = context.texts || {};
  var base = root.getAttribute('data-base');
  var csrf = root.getAttribute('data-csrf');
  var announcer = root.querySelector('[data-bp-announce]');
  var dirty = new Set();
  /**
   * What each section held when the server last drew it (its value as sent, as JSON), and the
   * sections another admin changed under unsaved changes here. A save refused because the profile
   * changed meanwhile is sent again only when its own section is still as drawn (another admin
   * saved other sections): what was typed here stays, and nothing of theirs is overwritten.
   */
  var drawn = {};
  var changedElsewhere = new Set();

  function format(text, params) {
    return String(text || '').replace(/\{(\w+)\}/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(params, key) ? String(params[key]) : match;
    });
  }
  function announce(text) {
    announcer.textContent = '';
    window.setTimeout(function () { announcer.textContent = text; }, 30);
  }
  function sectionOf(element) { return element.closest('[data-bp-section]'); }
  /** Focus on `element` when the last action took it away (a removed or disabled control), so it is never lost. */
  function keepFocus(element) {
    var current = document.activeElement;
    if (!element || (current && current !== document.body && document.contains(current))) return;
    if (element.tabIndex < 0 && !element.hasAttribute('tabindex')) element.setAttribute('tabindex', '-1');
    element.focus();
  }
  function all(scope, selector) { return Array.prototype.slice.call(scope.querySelectorAll(selector)); }
  /** What the page knows of a module's fields, by module: filled as each module's fields arrive. */
  var fieldsInfo = {};
  function moduleInfo(name) {
    var known = (context.modules && context.modules[name]) || { label: name };
    return { label: known.label, fields: fieldsInfo[name] || [] };
  }
  function fieldLabel(module, field) {
    var found = moduleInfo(module).fields.filter(function (f) { return f.name === field; })[0];
    return found ? found.label : field;
  }
  function optionLabel(list, value) {
    var found = (list || []).filter(function (o) { return o.value === value; })[0];
    return found ? found.label : value;
  }
  function fieldInfo(module, field) { return moduleInfo(module).fields.filter(function (f) { return f.name === field; })[0]; }
  /** A picklist value by its label in the admin's language (`Chiuso`); any other value as it is. */
  function valueLabel(module, field, value) {
    var found = fieldInfo(module, field);
    return found && found.options ? optionLabel(found.options, value) : value;
  }

  // ───────────────────────────── dirty state ─────────────────────────────
  function markDirty(element) {
    var section = sectionOf(element);
    if (!section) return;
    dirty.add(section.getAttribute('data-bp-section'));
    var flag = section.querySelector('[data-bp-dirty]');
    if (flag) flag.hidden = false;
  }
  window.addEventListener('beforeunload', function (event) {
    if (dirty.size === 0) return;
    event.preventDefault();
    event.returnValue = '';
  });

  // ───────────────────────────── what each section sends ─────────────────────────────
  var collect = {
    general: function (section) {
      var form = section.querySelector('form');
      var owner = form.elements.namedItem('owner').value;
      var parts = owner.split(':');
      return {
        owner: owner ? { kind: parts[0], id: Number(parts[1]) } : null,
        twoFactorType: form.elements.namedItem('twoFactorType').value,
        twoFactorFallback: form.elements.namedItem('twoFactorFallback').value,
      };
    },
    notifications: function (section) {
      var templates = {};
      all(section, '[data-bp-template]').forEach(function (select) {
        templates[select.getAttribute('data-bp-template')] = select.value ? Number(select.value) : null;
      });
      var checked = section.querySelector('input[name="smtpAccount"]:checked');
      var email = section.querySelector('input[name="senderEmail"]').value.trim();
      var name = section.querySelector('input[name="senderName"]').value.trim();
      return { templates: templates, smtpAccount: checked ? checked.value : 'default', senderEmail: email || null, senderName: name || null };
    },
    buttons: function (section) {
      return all(section, '[data-bp-buttons] > [data-bp-button]').map(function (item) {
        function value(name) { return item.querySelector('[data-bp-input="' + name + '"]').value; }
        var button = { title: value('title').trim(), description: value('description').trim(), colour: value('colour'), icon: value('icon'), action: value('action'), module: value('module') };
        // The text in the CRM's other languages: a language left blank reads the button's own text.
        var translations = {};
        all(item, '[data-bp-translation][data-bp-part="title"]').forEach(function (input) {
          var code = input.getAttribute('data-bp-translation');
          var description = item.querySelector('[data-bp-translation="' + code + '"][data-bp-part="description"]').value.trim();
          if (input.value.trim() !== '' || description !== '') translations[code] = { title: input.value.trim(), description: description };
        });
        if (Object.keys(translations).length > 0) button.translations = translations;
        return button;
      });
    },
    rules: function (section) {
      return all(section, '[data-bp-rules] > [data-bp-rule]').map(function (item) { return JSON.parse(item.getAttribute('data-bp-rule')); });
    },
    globals: function (section) {
      return { viewAll: section.querySelector('input[name="viewAll"]').checked, editAll: section.querySelector('input[name="editAll"]').checked };
    },
    modules: function (section) {
      // Modules the licence locks are left out: the server keeps what they have.
      return all(section, '[data-bp-module]').filter(function (body) { return !body.hasAttribute('data-bp-locked'); }).map(function (body) {
        function flag(name) { var box = body.querySelector('input[name="' + name + '"]'); return Boolean(box && box.checked && !box.disabled); }
        var tools = {};
        all(body, '[data-bp-tool]').forEach(function (box) { tools[box.getAttribute('data-bp-tool')] = box.checked; });
        var entry = {
          module: body.getAttribute('data-bp-module'),
          shown: flag('shown'),
          view: flag('view'),
          create: flag('create'),
          edit: flag('edit'),
          delete: flag('delete'),
          scope: body.querySelector('select[name="scope"]').value,
        };
        // A module whose fields were never drawn sends none: the server keeps its fields and columns.
        if (body.querySelector('[data-bp-module-fields-body]')) {
          var fields = {};
          all(body, '[data-bp-field]').forEach(function (select) { fields[select.getAttribute('data-bp-field')] = select.value; });
          entry.fields = fields;
          entry.listColumns = all(body, '[data-bp-columns] > [data-bp-column]').map(function (item) { return item.getAttribute('data-bp-column'); });
        }
        entry.tools = tools;
        return entry;
      });
    },
  };

  // ───────────────────────────── status next to a section ─────────────────────────────
  // Progress and success go to the section's polite region (role=status), a refusal to its assertive one
  // (role=alert), so that it is said at once; both regions are in the page from the start. A save's
  // confirmation (`saved`) is said once, by the page's announcer: the section was just drawn again, and
  // a live region new in the page is not reliably read. The section shows it outside both regions.
  // Answers the element of each message (the first a paragraph, the others list items), so that a
  // field a problem is about can be described by it.
  function showStatus(section, kind, messages, stale) {
    unmarkAll(section); // the problems that described them are gone
    var shown = [];
    var box = section.querySelector('[data-bp-status]');
    var polite = box.querySelector('[data-bp-status-polite]');
    var urgent = box.querySelector('[data-bp-status-urgent]');
    var quiet = box.querySelector('[data-bp-status-quiet]');
    polite.textContent = '';
    urgent.textContent = '';
    quiet.textContent = '';
    box.className = messages.length === 0 ? 'bp-status' : 'bp-status bp-status-' + (kind === 'saved' ? 'ok' : kind);
    if (messages.length === 0) return shown;
    var status = kind === 'error' ? urgent : kind === 'saved' ? quiet : polite;
    var first = document.createElement('p');
    first.textContent = messages[0];
    status.appendChild(first);
    shown.push(first);
    if (messages.length > 1) {
      var list = document.createElement('ul');
      messages.slice(1).forEach(function (text) {
        var item = document.createElement('li');
        item.textContent = text;
        list.appendChild(item);
        shown.push(item);
      });
      status.appendChild(list);
    }
    if (stale) {
      var reload = document.createElement('button');
      reload.type = 'button';
      reload.className = 'bp-secondary';
      reload.textContent = texts.reload;
      reload.addEventListener('click', function () { dirty.clear(); window.location.reload(); });
      status.appendChild(reload);
    }
    return shown;
  }

  // ───────────────────────────── fields a refusal is about ─────────────────────────────
  // The server names where each problem is (`general.twoFactorFallback`, `buttons[1].title`,
  // `modules[0].fields.status`, `notifications.templates.registration`): the field concerned is
  // marked aria-invalid and described by its problem in the status (before its own hint), until it
  // changes or the section's status is written again. A rule or a list column is no field: the
  // control that puts it right stands for it (a rule's Edit, a column's Delete, described by the
  // item's title after the problem), and goes when the item is changed or deleted.
  function nth(list, index) { return list[Number(index)] || null; }
  function fieldFor(section, path) {
    var name = section.getAttribute('data-bp-section');
    var m;
    var esc = window.CSS && CSS.escape ? CSS.escape : function (text) { return String(text).replace(/["\\]/g, '\\$&'); };
    if (name === 'general' || name === 'globals') {
      m = /^\w+\.(\w+)$/.exec(path);
      return m ? section.querySelector('[name="' + esc(m[1]) + '"]') : null;
    }
    if (name === 'notifications') {
      if ((m = /^notifications\.templates\.(\w+)$/.exec(path))) return section.querySelector('[data-bp-template="' + esc(m[1]) + '"]');
      m = /^notifications\.(\w+)$/.exec(path);
      return m ? section.querySelector('[name="' + esc(m[1]) + '"]:checked, input[name="' + esc(m[1]) + '"]:not([type="radio"])') || section.querySelector('[name="' + esc(m[1]) + '"]') : null;
    }
    if (name === 'buttons') {
      m = /^buttons\[(\d+)\]\.(\w+)(?:\.([\w-]+)(?:\.(\w+))?)?$/.exec(path);
      var item = m && nth(all(section, '[data-bp-buttons] > [data-bp-button]'), m[1]);
      if (!item) return null;
      if (m[2] === 'translations') return m[3] ? item.querySelector('[data-bp-translation="' + esc(m[3]) + '"][data-bp-part="' + esc(m[4] || 'title') + '"]') : null;
      return item.querySelector('[data-bp-input="' + esc(m[2]) + '"]');
    }
    if (name === 'rules') {
      // `rules[2].effects[0].field`, `rules[2].module`…: the rule as a whole, by its Edit.
      m = /^rules\[(\d+)\]/.exec(path);
      var rule = m && nth(all(section, '[data-bp-rules] > [data-bp-rule]'), m[1]);
      return rule ? rule.querySelector('[data-bp-edit-rule]') : null;
    }
    if (name === 'modules') {
      // Indexes count the modules sent: those the licence locks are not.
      var column = /^modules\[(\d+)\]\.listColumns\[(\d+)\]$/.exec(path);
      m = column || /^modules\[(\d+)\]\.(\w+)(?:\.(\w+))?$/.exec(path);
      var body = m && nth(all(section, '[data-bp-module]').filter(function (b) { return !b.hasAttribute('data-bp-locked'); }), m[1]);
      if (!body) return null;
      if (column) {
        // A column the module cannot show: its Delete puts it right.
        var shown = nth(all(body, '[data-bp-columns] > [data-bp-column]'), column[2]);
        return shown ? shown.querySelector('[data-bp-remove]') : null;
      }
      if (m[2] === 'fields') return m[3] ? body.querySelector('[data-bp-field="' + esc(m[3]) + '"]') : null;
      if (m[2] === 'tools') return m[3] ? body.querySelector('[data-bp-tool="' + esc(m[3]) + '"]') : null;
      if (m[3]) return null;
      return body.querySelector('select[name="' + esc(m[2]) + '"], input[name="' + esc(m[2]) + '"]');
    }
    return null;
  }
  var problemIds = 0;
  /** Marks `field` invalid, described by `problem` first; its own description is kept to give back. */
  function markField(field, problem) {
    // A field the refusal names must be seen: a filter that hides it is cleared.
    var hiddenRow = field.closest && field.closest('.bp-field-access > li[hidden]');
    var filter = hiddenRow && hiddenRow.closest('fieldset').querySelector('[data-bp-field-filter]');
    if (filter) {
      filter.value = '';
      filterFields(filter);
    }
    if (!problem.id) problem.id = 'bp-problem-' + (problemIds += 1);
    if (!field.hasAttribute('data-bp-invalid')) field.setAttribute('data-bp-invalid', field.getAttribute('aria-describedby') || '');
    var own = field.getAttribute('data-bp-invalid');
    var now = (field.getAttribute('aria-invalid') === 'true' ? field.getAttribute('aria-describedby').replace(own, '') : '').trim();
    field.setAttribute('aria-invalid', 'true');
    field.setAttribute('aria-describedby', [now, problem.id, own].filter(Boolean).join(' '));
  }
  function unmarkField(field) {
    if (!field.hasAttribute('data-bp-invalid')) return;
    var own = field.getAttribute('data-bp-invalid');
    if (own) field.setAttribute('aria-describedby', own);
    else field.removeAttribute('aria-describedby');
    field.removeAttribute('data-bp-invalid');
    field.removeAttribute('aria-invalid');
  }
  function unmarkAll(scope) { all(scope, '[data-bp-invalid]').forEach(unmarkField); }
  /** Marks the fields `problems` name (each described by its element in `shown`); answers the first one. */
  function markProblems(section, problems, shown) {
    var first = null;
    problems.forEach(function (problem, i) {
      var field = problem && typeof problem.path === 'string' ? fieldFor(section, problem.path) : null;
      if (!field || !shown[i]) return;
      markField(field, shown[i]);
      if (!first) first = field;
    });
    return first;
  }

  function save(section, retried) {
    var name = section.getAttribute('data-bp-section');
    var button = section.querySelector('[data-bp-save]');
    // One save of a section at a time. The Save is marked aria-disabled, not disabled, while it is on its
    // way: a disabled button loses the keyboard focus to the page, and the admin their place.
    if (button.getAttribute('aria-disabled') === 'true') return;
    if (changedElsewhere.has(name)) {
      showStatus(section, 'error', [texts.staleSection], true);
      keepFocus(button);
      return;
    }
    var value = collect[name](section);
    button.setAttribute('aria-disabled', 'true');
    function ready() { button.removeAttribute('aria-disabled'); }
    showStatus(section, 'busy', [texts.saving]);
    var response;
    fetch(base + '/sections/' + name, {
      method: 'PUT',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ version: Number(root.getAttribute('data-version')), value: value }),
    })
      .then(function (res) {
        response = res;
        return res.json().catch(function () { return null; });
      })
      .then(function (body) {
        if (response.ok && body && body.document) {
          root.setAttribute('data-version', String(body.document.profile.version));
          dirty.delete(name);
          return refresh(name).then(function () {
            ready(); // the section was not drawn again when the page could not be read: its Save works again
            var fresh = root.querySelector('[data-bp-section="' + name + '"]');
            // Shown next to the section, said once by the page's announcer.
            showStatus(fresh, 'saved', [texts.saved].concat(body.notices || []));
            announce([texts.saved].concat(body.notices || []).join(' '));
            // The section was drawn again (refresh put the focus on its status): go on from the status next to it.
            keepFocus(fresh.querySelector('[data-bp-status]'));
          });
        }
        if (response.status === 409 && body && body.error && body.error.code === 'stale' && !retried) {
          return catchUp(name).then(function (resend) {
            ready();
            if (resend) return save(section, true);
            showStatus(section, 'error', [changedElsewhere.has(name) ? texts.staleSection : body.error.message], true);
            keepFocus(button);
            return undefined;
          });
        }
        ready();
        var error = body && body.error;
        var problems = (error && error.problems) || [];
        var messages = error ? [error.message].concat(problems.map(function (p) { return p.message; })) : [texts.networkError];
        var shown = showStatus(section, 'error', messages, response.status === 409);
        // As on the other admin pages: the first field a problem names takes the focus (unfolded when
        // it is in a folded editor), to be put right; a refusal without one leaves it on Save.
        var first = markProblems(section, problems, shown.slice(1));
        if (first && !first.disabled) {
          for (var fold = first.closest('details'); fold; fold = fold.parentElement && fold.parentElement.closest('details')) fold.open = true;
          first.focus();
        }
        keepFocus(button);
        return undefined;
      })
      .catch(function () {
        ready();
        showStatus(section, 'error', [texts.networkError]);
        keepFocus(button);
      });
  }

  /**
   * Draws sections again from the server's page: the one just saved, and every other one
   * without unsaved changes (a module save changes which modules a button may target).
   */
  function refresh(savedName) {
    return freshPage()
      .then(function (fresh) { if (fresh) redraw(fresh, savedName); })
      .catch(function () { /* the saved values stay on the page as they were typed */ });
  }
  /** The page as stored now, with the fields of every module whose fields are drawn here (of the same revision). */
  function freshPage() {
    return fetch(window.location.pathname, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (html) {
        var fresh = html ? new DOMParser().parseFromString(html, 'text/html') : null;
        var freshRoot = fresh && fresh.querySelector('[data-bp-privileges]');
        if (!freshRoot) return fresh;
        var version = freshRoot.getAttribute('data-version');
        return Promise.all(all(root, '[data-bp-module-fields-body]').map(function (part) {
          var name = part.closest('[data-bp-module-fields]').getAttribute('data-bp-module-fields');
          var slot = all(freshRoot, '[data-bp-module-fields]').filter(function (s) { return s.getAttribute('data-bp-module-fields') === name; })[0];
          if (!slot || slot.querySelector('[data-bp-module-fields-body]')) return null;
          return fetchFields(name, version).then(function (answer) { if (answer.part) placeFields(slot, answer.part); });
        })).then(function () { return fresh; });
      });
  }

  // ───────────────────────────── a module's fields, when opened ─────────────────────────────
  var loading = {};
  /** Answers `{part}` (the module's fields, parsed) or `{status}` (409: the profile changed since `version`). */
  function fetchFields(name, version) {
    var url = base + '/privileges/modules/' + encodeURIComponent(name) + '?version=' + encodeURIComponent(version);
    return fetch(url, { credentials: 'same-origin', headers: { accept: 'text/html' } }).then(function (res) {
      if (!res.ok) return { status: res.status };
      return res.text().then(function (html) {
        var part = new DOMParser().parseFromString(html, 'text/html').querySelector('[data-bp-module-fields-body]');
        return part ? { part: part } : { status: 0 };
      });
    });
  }
  /** Puts a module's fields in its place (of this page or of a page read again), and learns their labels for the rule form. */
  function placeFields(slot, part) {
    var node = slot.ownerDocument.importNode(part, true);
    slot.textContent = '';
    slot.appendChild(node);
    var name = slot.getAttribute('data-bp-module-fields');
    try { fieldsInfo[name] = JSON.parse(node.getAttribute('data-bp-module-info') || '[]'); } catch (error) { fieldsInfo[name] = []; }
    return node;
  }
  function slotOf(name) {
    return all(root, '[data-bp-module-fields]').filter(function (s) { return s.getAttribute('data-bp-module-fields') === name; })[0] || null;
  }
  /**
   * Draws a module's fields in its part of the modules section (once); resolves when the rule form can
   * read them. A profile saved meanwhile by another admin: the page catches up first (as a stale save
   * does), then asks again. What the section held when drawn now holds the module's fields too.
   */
  function loadFields(name) {
    var slot = slotOf(name);
    if (!slot) return Promise.resolve(false);
    if (slot.querySelector('[data-bp-module-fields-body]')) return Promise.resolve(true);
    if (loading[name]) return loading[name];
    var busy = document.createElement('p');
    busy.className = 'bp-fields-load';
    busy.setAttribute('role', 'status');
    busy.textContent = texts.fieldsLoading;
    var link = slot.querySelector('[data-bp-load-fields]');
    if (link) link.parentNode.hidden = true;
    slot.appendChild(busy);
    function attempt(retried) {
      return fetchFields(name, root.getAttribute('data-version')).then(function (answer) {
        if (answer.status === 409 && !retried) return catchUp(null).then(function () { return attempt(true); });
        var current = slotOf(name); // the section may have been drawn again meanwhile
        if (!current) return false;
        if (current.querySelector('[data-bp-module-fields-body]')) return true;
        if (!answer.part) throw new Error(String(answer.status));
        var wasDirty = dirty.has('modules');
        var section = sectionOf(current);
        var node = placeFields(current, answer.part);
        all(node, '[data-bp-sortable]').forEach(makeSortable);
        // What the section held when drawn: its module's fields as they arrived, the rest as it was.
        if (!wasDirty) drawn.modules = valueOf('modules', section);
        else {
          try {
            var mine = collect.modules(section).filter(function (e) { return e.module === name; })[0];
            drawn.modules = JSON.stringify(JSON.parse(drawn.modules).map(function (e) {
              if (!mine || e.module !== name) return e;
              var merged = {};
              Object.keys(mine).forEach(function (key) { merged[key] = key === 'fields' || key === 'listColumns' ? mine[key] : e[key]; });
              return merged;
            }));
          } catch (error) { /* left as it was: a save then catches up */ }
        }
        return true;
      });
    }
    loading[name] = attempt(false)
      .catch(function () {
        var current = slotOf(name);
        if (current && !current.querySelector('[data-bp-module-fields-body]')) {
          var failed = document.createElement('p');
          failed.className = 'bp-flag';
          failed.setAttribute('role', 'alert');
          failed.textContent = texts.fieldsFailed;
          all(current, '[role="status"], .bp-flag').forEach(function (old) { old.remove(); });
          current.appendChild(failed);
          var again = current.querySelector('[data-bp-load-fields]');
          if (again) again.parentNode.hidden = false;
        }
        return false;
      })
      .then(function (done) {
        delete loading[name];
        var current = slotOf(name);
        if (current && done) all(current, ':scope > .bp-fields-load[role="status"], :scope > .bp-flag').forEach(function (old) { old.remove(); });
        return done;
      });
    return loading[name];
  }
  function valueOf(name, section) {
    try { return JSON.stringify(collect[name](section)); } catch (error) { return null; }
  }
  /**
   * After a save refused as stale: reads the profile as stored now. When the section being saved is
   * as it was drawn here, another admin changed only other sections: the page takes the new version,
   * draws again the sections without unsaved changes (theirs now show), notes the unsaved ones whose
   * stored value changed too (their save is refused), and answers true (send the save again).
   */
  function catchUp(name) {
    return freshPage()
      .then(function (fresh) {
        var freshRoot = fresh && fresh.querySelector('[data-bp-privileges]');
        // No section being saved (a module's fields asked for of an older revision): only catch up.
        var stored = fresh && name !== null ? fresh.querySelector('[data-bp-section="' + name + '"]') : freshRoot;
        if (!freshRoot || !stored) return false;
        if (name !== null && valueOf(name, stored) !== drawn[name]) {
          changedElsewhere.add(name);
          return false;
        }
        dirty.forEach(function (other) {
          var section = fresh.querySelector('[data-bp-section="' + other + '"]');
          if (other !== name && section && valueOf(other, section) !== drawn[other]) changedElsewhere.add(other);
        });
        root.setAttribute('data-version', freshRoot.getAttribute('data-version'));
        redraw(fresh, name, true);
        return true;
      })
      .catch(function () { return false; });
  }
  /** Draws the sections again from `fresh`: every one without unsaved changes (and `savedName`, unless `keepSaved`). */
  function redraw(fresh, savedName, keepSaved) {
        all(root, '[data-bp-section]').forEach(function (section) {
          var name = section.getAttribute('data-bp-section');
          if ((name !== savedName || keepSaved) && dirty.has(name)) return;
          var replacement = fresh.querySelector('[data-bp-section="' + name + '"]');
          if (!replacement) return;
          var open = all(section, 'details[open]').map(detailsKey).filter(Boolean);
          var node = document.importNode(replacement, true);
          all(node, 'details').forEach(function (details) { if (open.indexOf(detailsKey(details)) >= 0) details.open = true; });
          // The keyboard must not fall to the page with the old section: in the section just saved it goes
          // on from the status; in another one, to the same control drawn again.
          var place = all(section, FOCUSABLE).indexOf(document.activeElement);
          var hadFocus = section.contains(document.activeElement);
          section.replaceWith(node);
          setUp(node);
          if (hadFocus) keepFocus(name === savedName ? node.querySelector('[data-bp-status]') : all(node, FOCUSABLE)[place] || node.querySelector('h2'));
        });
  }
  var FOCUSABLE = 'a[href], button, input, select, textarea, summary, [tabindex]';
  function detailsKey(details) { return details.getAttribute('data-bp-details') || details.getAttribute('data-bp-subform') || ''; }

  // ───────────────────────────── ordered lists ─────────────────────────────
  function updateEmpty(list) {
    var empty = list.parentNode.querySelector('[data-bp-empty]');
    if (empty) empty.hidden = list.children.length > 0;
  }
  function itemLabel(item) {
    var title = item.querySelector('[data-bp-preview-title], .bp-column-label, [data-bp-rule-title], .bp-rule-title strong');
    return title ? title.textContent.trim() : '';
  }
  /**
   * Every item's Move up, Move down, Edit and Delete are described by the item's title (its
   * `aria-describedby`), so a screen reader says which button, column or rule they act on. Items
   * come from the server and from this script (added, drawn again after a save): an observer
   * describes whatever arrives.
   */
  var titleIds = 0;
  function describeTools(root) {
    all(root, '.bp-item').forEach(function (item) {
      var title = item.querySelector('[data-bp-preview-title], .bp-column-label, [data-bp-rule-title], .bp-rule-title strong');
      if (!title) return;
      if (!title.id) title.id = 'bp-item-title-' + (titleIds += 1);
      all(item, '.bp-item-tools button').forEach(function (tool) { tool.setAttribute('aria-describedby', title.id); });
    });
  }
  describeTools(document);
  if (window.MutationObserver) {
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        Array.prototype.forEach.call(change.addedNodes, function (node) {
          if (node.nodeType !== 1) return;
          var item = node.closest('.bp-item');
          describeTools(item ? item.parentNode : node);
        });
      });
    }).observe(document.body, { childList: true, subtree: true });
  }
  function move(item, direction) {
    var list = item.parentNode;
    if (direction === 'up' && item.previousElementSibling) list.insertBefore(item, item.previousElementSibling);
    else if (direction === 'down' && item.nextElementSibling) list.insertBefore(item.nextElementSibling, item);
    else return;
    var position = Array.prototype.indexOf.call(list.children, item) + 1;
    announce(format(texts.moved, { item: itemLabel(item), position: position, count: list.children.length }));
    markDirty(list);
  }
  function makeSortable(list) {
    if (!window.Sortable || list.hasAttribute('data-bp-sortable-ready') || list.closest('[data-bp-locked]')) return;
    list.setAttribute('data-bp-sortable-ready', '1');
    window.Sortable.create(list, {
      handle: '[data-bp-drag]',
      draggable: '.bp-item',
      animation: 150,
      forceFallback: true,
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex) return;
        announce(format(texts.moved, { item: itemLabel(event.item), position: event.newIndex + 1, count: list.children.length }));
        markDirty(list);
      },
    });
  }

  // ───────────────────────────── home buttons ─────────────────────────────
  function buttonInput(item, name) { return item.querySelector('[data-bp-input="' + name + '"]'); }
  function syncPreview(item) {
    var preview = item.querySelector('[data-bp-preview]');
    preview.className = 'bp-home-button bp-colour-' + buttonInput(item, 'colour').value;
    preview.querySelector('use').setAttribute('href', '#bp-icon-' + buttonInput(item, 'icon').value);
    preview.querySelector('[data-bp-preview-title]').textContent = buttonInput(item, 'title').value.trim() || texts.newButton;
    preview.querySelector('[data-bp-preview-description]').textContent = buttonInput(item, 'description').value.trim();
  }
  /** "Create a record" offers only the modules the profile may create in. */
  function syncModules(item, chosenByUser) {
    var create = buttonInput(item, 'action').value === 'create';
    var select = buttonInput(item, 'module');
    all(select, 'option').forEach(function (option) { option.disabled = create && option.getAttribute('data-can-create') !== '1' && !(option.selected && !chosenByUser); });
    if (chosenByUser && select.selectedOptions[0] && select.selectedOptions[0].disabled) {
      var first = all(select, 'option').filter(function (option) { return !option.disabled; })[0];
      if (first) select.value = first.value;
    }
  }
  function addButton(section) {
    var template = section.querySelector('[data-bp-button-template]');
    var list = section.querySelector('[data-bp-buttons]');
    var item = template.content.firstElementChild.cloneNode(true);
    list.appendChild(item);
    syncModules(item, true);
    syncPreview(item);
    updateEmpty(list);
    markDirty(list);
    buttonInput(item, 'title').focus();
  }

  // ───────────────────────────── list columns ─────────────────────────────
  function addColumn(body) {
    var choice = body.querySelector('[data-bp-column-choice]');
    var option = choice.selectedOptions[0];
    if (!option) return;
    var list = body.querySelector('[data-bp-columns]');
    var item = sectionOf(body).querySelector('[data-bp-column-template]').content.firstElementChild.cloneNode(true);
    item.setAttribute('data-bp-column', option.value);
    item.querySelector('.bp-column-label').textContent = option.textContent;
    list.appendChild(item);
    option.remove();
    updateEmpty(list);
    markDirty(list);
  }
  function columnRemoved(item, body) {
    offerColumn(body, item.getAttribute('data-bp-column'), itemLabel(item));
  }
  // A hidden field cannot be a list column: the chooser offers the fields that are neither hidden
  // nor a column yet, in the order of the fields, and follows their access as the admin changes it
  // (it offered a field just hidden, and not one just shown, until the section was saved). A
  // column whose field is hidden stays in the list: the save removes it and says so.
  function fieldAccessChanged(select) {
    var body = select.closest('[data-bp-module-fields-body]');
    if (!body || !body.querySelector('[data-bp-column-choice]')) return;
    var name = select.getAttribute('data-bp-field');
    if (select.value === 'hidden') {
      all(body.querySelector('[data-bp-column-choice]'), 'option').forEach(function (o) { if (o.value === name) o.remove(); });
      return;
    }
    if (all(body, '[data-bp-columns] > [data-bp-column]').some(function (item) { return item.getAttribute('data-bp-column') === name; })) return;
    var label = all(body, 'label').filter(function (l) { return l.htmlFor === select.id; })[0];
    offerColumn(body, name, label ? label.textContent : name);
  }
  function offerColumn(body, name, text) {
    var choice = body.querySelector('[data-bp-column-choice]');
    var fields = all(body, 'select[data-bp-field]');
    var order = fields.map(function (s) { return s.getAttribute('data-bp-field'); });
    var access = fields[order.indexOf(name)];
    var offered = all(choice, 'option');
    if ((access && access.value === 'hidden') || offered.some(function (o) { return o.value === name; })) return;
    var option = document.createElement('option');
    option.value = name;
    option.textContent = text;
    var place = order.indexOf(name);
    var before = place < 0 ? null : offered.filter(function (o) { return order.indexOf(o.value) > place; })[0];
    choice.insertBefore(option, before || null);
  }

  // ───────────────────────────── conditional rules ─────────────────────────────
  function fillFields(select, module) {
    var current = select.value;
    select.textContent = '';
    moduleInfo(module).fields.forEach(function (field) {
      var option = document.createElement('option');
      option.value = field.name;
      option.textContent = field.label;
      select.appendChild(option);
    });
    if (current) select.value = current;
    if (!select.value && select.options.length > 0) select.selectedIndex = 0;
  }
  function ruleForm(section) { return section.querySelector('[data-bp-subform="new-rule"]'); }
  function addRow(section, kind, quietly) {
    var form = ruleForm(section);
    var template = section.querySelector('[data-bp-' + kind + '-template]');
    var row = template.content.firstElementChild.cloneNode(true);
    form.querySelector(kind === 'condition' ? '[data-bp-conditions]' : '[data-bp-effects]').appendChild(row);
    fillFields(row.querySelector('select'), form.querySelector('[data-bp-rule-module]').value);
    syncValueInput(row);
    if (!quietly) row.querySelector('select').focus();
    return row;
  }
  var valueLists = 0;
  function syncValueInput(row) {
    var op = row.querySelector('[data-bp-cond-op]');
    var value = row.querySelector('[data-bp-cond-value]');
    if (!op || !value) return;
    value.disabled = op.value === 'isNull' || op.value === 'notNull';
    // A picklist's stored values are offered with their labels: the rule holds the value (Closed), the admin reads the label (Chiuso).
    var module = row.closest('[data-bp-subform]').querySelector('[data-bp-rule-module]').value;
    var field = fieldInfo(module, row.querySelector('[data-bp-cond-field]').value);
    var list = row.querySelector('datalist');
    if (!field || !field.options) {
      if (list) list.remove();
      value.removeAttribute('list');
      return;
    }
    if (!list) {
      list = document.createElement('datalist');
      valueLists += 1;
      list.id = 'bp-cond-values-' + valueLists;
      row.appendChild(list);
    }
    list.textContent = '';
    field.options.forEach(function (o) {
      var option = document.createElement('option');
      option.value = o.value;
      option.label = o.label;
      list.appendChild(option);
    });
    value.setAttribute('list', list.id);
  }
  function typedValue(module, field, op, text) {
    if (op === 'isNull' || op === 'notNull') return undefined;
    if (op === 'in') return text.split(',').map(function (part) { return part.trim(); }).filter(Boolean);
    var definition = moduleInfo(module).fields.filter(function (f) { return f.name === field; })[0];
    var type = definition ? definition.type : 'text';
    if ((type === 'integer' || type === 'number' || type === 'currency' || type === 'decimal') && text.trim() !== '' && !isNaN(Number(text))) return Number(text);
    if (type === 'boolean' || type === 'checkbox') {
      // true or false as offered (Yes, No); anything else is sent as typed, for the server to refuse
      // aloud: read as false, a "vero" or "sì" would have saved the opposite of what was meant.
      var said = text.trim().toLowerCase();
      if (said === 'true' || said === '1') return true;
      if (said === 'false' || said === '0') return false;
      return text;
    }
    return text;
  }
  function describeRule(rule) {
    return {
      conditions: rule.conditions.map(function (c) {
        var shown = function (v) { return valueLabel(rule.module, c.field, String(v)); };
        var value = c.value === undefined || c.value === null ? '' : Array.isArray(c.value) ? c.value.map(shown).join(', ') : shown(c.value);
        return fieldLabel(rule.module, c.field) + ' ' + optionLabel(context.ops, c.op) + (value ? ' ' + value : '');
      }),
      effects: (rule.allReadOnly ? [texts.everything] : []).concat(rule.effects.map(function (e) { return fieldLabel(rule.module, e.field) + ': ' + optionLabel(context.effects, e.effect); })),
    };
  }
  function ruleItem(section, rule) {
    var item = section.querySelector('[data-bp-rule-template]').content.firstElementChild.cloneNode(true);
    item.setAttribute('data-bp-rule', JSON.stringify(rule));
    item.querySelector('[data-bp-rule-title]').textContent = rule.name;
    item.querySelector('[data-bp-rule-module-label]').textContent = moduleInfo(rule.module).label;
    var origin = item.querySelector('[data-bp-rule-origin]');
    origin.textContent = rule.origin.kind === 'profile' ? format(texts.originProfile, { name: rule.origin.profileName }) : rule.origin.kind === 'crm' ? texts.originCrm : texts.originPortal;
    origin.className = 'bp-badge bp-origin-' + rule.origin.kind;
    var parts = describeRule(rule);
    [['[data-bp-rule-conditions]', parts.conditions], ['[data-bp-rule-effects]', parts.effects]].forEach(function (pair) {
      var target = item.querySelector(pair[0]);
      pair[1].forEach(function (text) {
        var chip = document.createElement('span');
        chip.className = 'bp-chip';
        chip.textContent = text;
        target.appendChild(chip);
      });
    });
    return item;
  }
  function appendRule(section, rule) {
    var list = section.querySelector('[data-bp-rules]');
    list.appendChild(ruleItem(section, rule));
    updateEmpty(list);
    markDirty(list);
  }
  /** The rule being edited, if any: the form then updates it in place instead of adding one. */
  function editedRule(section) { return section.querySelector('[data-bp-rules] > [data-bp-editing]'); }
  function clearRuleForm(section) {
    var form = ruleForm(section);
    form.querySelector('[data-bp-rule-name]').value = '';
    form.querySelector('[data-bp-rule-all-read-only]').checked = false;
    form.querySelector('[data-bp-rule-problem]').hidden = true;
    all(form, '[data-bp-condition], [data-bp-effect]').forEach(function (row) { row.remove(); });
  }
  /** Back to "add a rule": the form empty, its texts those of adding. */
  function endEdit(section) {
    var form = ruleForm(section);
    var item = editedRule(section);
    if (item) item.removeAttribute('data-bp-editing');
    form.querySelector('[data-bp-rule-form-heading]').textContent = texts.addHeading;
    form.querySelector('[data-bp-rule-form-hint]').textContent = texts.addHint;
    form.querySelector('[data-bp-add-rule]').textContent = texts.addRule;
    form.querySelector('[data-bp-cancel-edit]').hidden = true;
    clearRuleForm(section);
    addRow(section, 'condition', true);
    return item;
  }
  /** Loads a rule of the list into the form, to change it there and update it in place. */
  function editRule(section, item, asked) {
    var rule = JSON.parse(item.getAttribute('data-bp-rule'));
    // Its module's fields first (asked once): the form's rows choose among them.
    if (!asked && !fieldsInfo[rule.module] && slotOf(rule.module)) {
      loadFields(rule.module).then(function () { if (document.contains(item)) editRule(section, item, true); });
      return;
    }
    var form = ruleForm(section);
    var previous = editedRule(section);
    if (previous) previous.removeAttribute('data-bp-editing');
    item.setAttribute('data-bp-editing', '1');
    clearRuleForm(section);
    form.querySelector('[data-bp-rule-name]').value = rule.name;
    form.querySelector('[data-bp-rule-module]').value = rule.module;
    form.querySelector('[data-bp-rule-all-read-only]').checked = Boolean(rule.allReadOnly);
    rule.conditions.forEach(function (condition) {
      var row = addRow(section, 'condition', true);
      row.querySelector('[data-bp-cond-field]').value = condition.field;
      row.querySelector('[data-bp-cond-op]').value = condition.op;
      var value = condition.value;
      row.querySelector('[data-bp-cond-value]').value = value === undefined || value === null ? '' : Array.isArray(value) ? value.join(', ') : String(value);
      syncValueInput(row);
    });
    rule.effects.forEach(function (effect) {
      var row = addRow(section, 'effect', true);
      row.querySelector('[data-bp-effect-field]').value = effect.field;
      row.querySelector('[data-bp-effect-kind]').value = effect.effect;
    });
    if (rule.conditions.length === 0) addRow(section, 'condition', true);
    form.querySelector('[data-bp-rule-form-heading]').textContent = format(texts.editHeading, { name: rule.name });
    form.querySelector('[data-bp-rule-form-hint]').textContent = texts.editHint;
    form.querySelector('[data-bp-add-rule]').textContent = texts.updateRule;
    form.querySelector('[data-bp-cancel-edit]').hidden = false;
    form.open = true;
    form.querySelector('[data-bp-rule-name]').focus();
  }
  function addRule(section) {
    var form = ruleForm(section);
    var problem = form.querySelector('[data-bp-rule-problem]');
    var module = form.querySelector('[data-bp-rule-module]').value;
    var name = form.querySelector('[data-bp-rule-name]').value.trim();
    var conditions = all(form, '[data-bp-condition]').map(function (row) {
      var field = row.querySelector('[data-bp-cond-field]').value;
      var op = row.querySelector('[data-bp-cond-op]').value;
      var value = typedValue(module, field, op, row.querySelector('[data-bp-cond-value]').value);
      return value === undefined ? { field: field, op: op } : { field: field, op: op, value: value };
    });
    var effects = all(form, '[data-bp-effect]').map(function (row) {
      return { field: row.querySelector('[data-bp-effect-field]').value, effect: row.querySelector('[data-bp-effect-kind]').value };
    });
    var allReadOnly = form.querySelector('[data-bp-rule-all-read-only]').checked;
    if (!name || !module || conditions.length === 0 || conditions.some(function (c) { return !c.field; }) || (effects.length === 0 && !allReadOnly)) {
      problem.textContent = texts.ruleIncomplete;
      problem.hidden = false;
      announce(texts.ruleIncomplete);
      return;
    }
    problem.hidden = true;
    // A changed rule is this profile's own: it no longer is the CRM's or another profile's.
    var rule = { name: name, module: module, origin: { kind: 'portal' }, conditions: conditions, effects: effects, allReadOnly: allReadOnly };
    var edited = endEdit(section);
    if (edited) {
      var updated = ruleItem(section, rule);
      edited.replaceWith(updated);
      markDirty(updated);
      updated.querySelector('[data-bp-edit-rule]').focus();
      announce(texts.ruleUpdated);
      return;
    }
    appendRule(section, rule);
    form.querySelector('[data-bp-rule-name]').focus();
    announce(texts.ruleAdded);
  }
  function importFromProfile(section) {
    var select = section.querySelector('[data-bp-import-profile]');
    var option = select.selectedOptions[0];
    if (!option) return;
    var url = base.replace(/\/\d+$/, '/' + encodeURIComponent(option.value)) + '/document';
    fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (res) { return res.ok ? res.json() : Promise.reject(new Error(String(res.status))); })
      .then(function (document) {
        // The modules' fields first: the rules are described by their labels.
        return Promise.all(document.rules.map(function (rule) { return loadFields(rule.module); })).then(function () { return document; });
      })
      .then(function (document) {
        document.rules.forEach(function (rule) {
          appendRule(section, { name: rule.name, module: rule.module, origin: { kind: 'profile', profileName: document.profile.name }, conditions: rule.conditions, effects: rule.effects, allReadOnly: rule.allReadOnly });
        });
        showStatus(section, 'ok', [format(texts.imported, { count: document.rules.length })]);
      })
      .catch(function () { showStatus(section, 'error', [texts.importFailed]); });
  }
  function importFromCrm(section) {
    var boxes = all(section, '[data-bp-crm-rule]:checked');
    var rules = boxes.map(function (box) { return JSON.parse(box.getAttribute('data-bp-crm-rule')); });
    // The modules' fields first: the rules are described by their labels.
    Promise.all(rules.map(function (rule) { return loadFields(rule.module); })).then(function () {
      rules.forEach(function (rule) { appendRule(section, rule); });
      boxes.forEach(function (box) { box.checked = false; });
      showStatus(section, 'ok', [format(texts.imported, { count: boxes.length })]);
    });
  }

  // ───────────────────────────── set up a section ─────────────────────────────
  function setUp(section) {
    var name = section.getAttribute('data-bp-section');
    drawn[name] = valueOf(name, section);
    changedElsewhere.delete(name);
    all(section, '[data-bp-save]').forEach(function (button) { button.disabled = false; });
    all(section, '[data-bp-sortable]').forEach(makeSortable);
    all(section, '[data-bp-button]').forEach(function (item) { syncModules(item, false); });
    var form = ruleForm(section);
    if (form && !form.querySelector('[data-bp-condition]')) addRow(section, 'condition', true);
    if (form && form.open) ruleFormFields(section);
    // A module's part open (drawn again open, or named by `?fields=`) shows its fields.
    all(section, 'details[data-bp-details][open]').forEach(function (details) { loadFields(details.getAttribute('data-bp-details')); });
    all(section, '[data-bp-module-fields-body]').forEach(function (part) {
      var slot = part.closest('[data-bp-module-fields]');
      try { fieldsInfo[slot.getAttribute('data-bp-module-fields')] = JSON.parse(part.getAttribute('data-bp-module-info') || '[]'); } catch (error) { /* labels read as names */ }
    });
  }
  /** The rule form's field choices, once its module's fields are here. */
  function ruleFormFields(section) {
    var form = ruleForm(section);
    var module = form.querySelector('[data-bp-rule-module]').value;
    return loadFields(module).then(function () {
      if (form.querySelector('[data-bp-rule-module]').value !== module) return;
      all(form, '[data-bp-cond-field], [data-bp-effect-field]').forEach(function (select) { fillFields(select, module); });
      all(form, '[data-bp-condition]').forEach(syncValueInput);
    });
  }
  all(root, '[data-bp-section]').forEach(setUp);

  // ───────────────────────────── events (delegated: sections are redrawn) ─────────────────────────────
  root.addEventListener('submit', function (event) {
    var section = sectionOf(event.target);
    if (!section) return;
    event.preventDefault();
    save(section);
  });
  // A Save checks the section's fields first; one inside a folded editor (a button's "Edit") could
  // not be shown, and the browser would refuse the save without a word: unfold it so it can.
  root.addEventListener('invalid', function (event) {
    var details = event.target.closest && event.target.closest('details');
    if (details && !details.open) details.open = true;
  }, true);
  // Opening a module's part draws its fields; opening the rule form, those of its module.
  root.addEventListener('toggle', function (event) {
    var details = event.target;
    if (!details.open) return;
    if (details.hasAttribute('data-bp-details')) loadFields(details.getAttribute('data-bp-details'));
    else if (details.getAttribute('data-bp-subform') === 'new-rule') ruleFormFields(sectionOf(details));
  }, true);
  root.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('[data-bp-load-fields]');
    if (!link) return;
    event.preventDefault();
    var details = link.closest('details');
    if (details) details.open = true;
    loadFields(link.closest('[data-bp-module-fields]').getAttribute('data-bp-module-fields'));
  });
  root.addEventListener('keydown', function (event) {
    // Enter in the "add a rule" or "import" parts must not save the whole section.
    if (event.key === 'Enter' && event.target.closest('[data-bp-subform]') && event.target.tagName === 'INPUT') event.preventDefault();
    // Nor Enter in a field filter: it only finds fields.
    if (event.key === 'Enter' && event.target.hasAttribute('data-bp-field-filter')) event.preventDefault();
  });
  /**
   * A module's field filter: shows the fields whose label (or name) holds what is typed, whatever
   * its case, and says how many. It only hides rows: the section still sends every field.
   */
  function filterFields(input) {
    var list = document.getElementById(input.getAttribute('aria-controls'));
    if (!list) return;
    var text = input.value.trim().toLowerCase();
    var rows = all(list, ':scope > li');
    var shown = 0;
    rows.forEach(function (row) {
      var select = row.querySelector('[data-bp-field]');
      var match = !text || row.textContent.toLowerCase().indexOf(text) >= 0 || (select && select.getAttribute('data-bp-field').indexOf(text) >= 0);
      row.hidden = !match;
      if (match) shown += 1;
    });
    var count = input.parentNode.querySelector('[data-bp-field-filter-count]');
    if (count) count.textContent = text ? format(texts.fieldsShown, { shown: shown, total: rows.length }) : '';
  }
  function onEdit(event) {
    var target = event.target;
    var section = sectionOf(target);
    if (!section) return;
    if (target.hasAttribute('data-bp-field-filter')) {
      filterFields(target);
      return;
    }
    // The owner search is a form of its own (a GET of the page): typing in it changes nothing to save.
    if (target.hasAttribute('data-bp-owner-search')) return;
    var item = target.closest('[data-bp-button]');
    if (item) {
      if (target.getAttribute('data-bp-input') === 'action' && event.type === 'change') syncModules(item, true);
      syncPreview(item);
    }
    if (target.hasAttribute('data-bp-rule-module')) {
      all(ruleForm(section), '[data-bp-cond-field], [data-bp-effect-field]').forEach(function (select) { fillFields(select, target.value); });
      all(ruleForm(section), '[data-bp-condition]').forEach(syncValueInput);
      ruleFormFields(section);
      return;
    }
    // A field put right is no longer the one the refusal named (a radio: its whole group).
    if (target.type === 'radio' && target.name) all(section, '[data-bp-invalid][name="' + target.name + '"]').forEach(unmarkField);
    else unmarkField(target);
    if (target.hasAttribute('data-bp-cond-op') || target.hasAttribute('data-bp-cond-field')) syncValueInput(target.closest('[data-bp-condition]'));
    if (target.hasAttribute('data-bp-field') && event.type === 'change') fieldAccessChanged(target);
    if (target.closest('[data-bp-subform]') || target.hasAttribute('data-bp-column-choice')) return;
    markDirty(target);
  }
  root.addEventListener('input', onEdit);
  root.addEventListener('change', onEdit);
  root.addEventListener('click', function (event) {
    var button = event.target.closest('button');
    if (!button || !root.contains(button) || button.type === 'submit') return;
    var section = sectionOf(button);
    if (!section) return;
    if (button.hasAttribute('data-bp-move')) {
      move(button.closest('.bp-item'), button.getAttribute('data-bp-move'));
      button.focus();
    } else if (button.hasAttribute('data-bp-remove')) {
      var item = button.closest('.bp-item');
      var list = item.parentNode;
      var label = itemLabel(item);
      var next = item.nextElementSibling || item.previousElementSibling;
      var body = button.closest('[data-bp-module]');
      if (body && item.hasAttribute('data-bp-column')) columnRemoved(item, body);
      var wasEdited = item.hasAttribute('data-bp-editing');
      item.remove();
      if (wasEdited) endEdit(section);
      updateEmpty(list);
      markDirty(list);
      announce(format(texts.removed, { item: label }));
      var focus = next && next.querySelector('[data-bp-remove]');
      if (focus) focus.focus();
      // The last one gone: on to what adds one (a list's Add button, the rule form's summary).
      else keepFocus((body || section).querySelector('[data-bp-add-button]:not([disabled]), [data-bp-add-column]:not([disabled]), [data-bp-subform] > summary') || section.querySelector('h2'));
    } else if (button.hasAttribute('data-bp-add-button')) {
      addButton(section);
    } else if (button.hasAttribute('data-bp-add-column')) {
      addColumn(button.closest('[data-bp-module]'));
    } else if (button.hasAttribute('data-bp-add-condition')) {
      addRow(section, 'condition');
    } else if (button.hasAttribute('data-bp-add-effect')) {
      addRow(section, 'effect');
    } else if (button.hasAttribute('data-bp-remove-row')) {
      var row = button.closest('.bp-row');
      var rows = row.parentNode;
      var other = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      // Focus stays in the list: the next row's Remove, else the list's "Add" button just after it.
      keepFocus(other ? other.querySelector('[data-bp-remove-row]') : rows.nextElementSibling);
    } else if (button.hasAttribute('data-bp-add-rule')) {
      addRule(section);
    } else if (button.hasAttribute('data-bp-edit-rule')) {
      editRule(section, button.closest('[data-bp-rule]'));
    } else if (button.hasAttribute('data-bp-cancel-edit')) {
      var edited = endEdit(section);
      if (edited) edited.querySelector('[data-bp-edit-rule]').focus();
    } else if (button.hasAttribute('data-bp-import-profile-go')) {
      importFromProfile(section);
    } else if (button.hasAttribute('data-bp-import-crm')) {
      importFromCrm(section);
    }
  });
})();
