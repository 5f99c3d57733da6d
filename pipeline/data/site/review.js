/* The review panel of the web map, when the page is served by `camps serve --review`.
 *
 * It asks the same-origin GET /review/queue; when that answers (only with --review),
 * the panel lists the names waiting for a person, with their row counts, shows a
 * name's candidates on the map, and posts one decision to /review/decide: accept a
 * candidate, reject them all, or place a point (a click on the map, or lat/lon typed).
 * After every decision the page draws the layers again from GET /review/layers (the
 * service redoes the decided rows with the stages' own code), then fetches the queue
 * again: the marker moves, appears or goes, with its certainty and circle, without a
 * reload. Text from the data goes in with textContent only, never as HTML. On file://
 * or a static host it does nothing.
 */
(function () {
  'use strict';
  var map = window.CAMPS_MAP;
  var panel = document.getElementById('review');
  if (!map || !panel || !/^https?:$/.test(location.protocol) || !window.fetch) { return; }

  var TEXT = {
    en: {
      title: 'Review', summary: function (n, r) { return n + ' names, ' + r + ' rows wait for a decision'; },
      who: 'Your name', why: 'Why (note, source)', rows: function (n) { return n === 1 ? '1 row' : n + ' rows'; },
      accept: 'Accept', reject: 'Reject all candidates', place: 'Place a point by clicking the map',
      placing: 'Click the map where the place is (Esc cancels)', latlon: 'Or type lat, lon',
      place_here: 'Place here', no_point: 'no point', none: 'No candidate.', empty: 'Nothing waits for review.',
      saved: function (name) { return 'Saved the decision for ' + name + '.'; },
      failed: function (m) { return 'Not saved: ' + m; }, bad_point: 'Write lat, lon in decimal degrees, e.g. 51.5, 113.2',
      candidates: 'Candidates'
    },
    ja: {
      title: '確認', summary: function (n, r) { return n + ' 件の地名（' + r + ' 行）が判断待ちです'; },
      who: '確認者', why: '理由（注記・典拠）', rows: function (n) { return n + ' 行'; },
      accept: '採用', reject: 'すべての候補を却下', place: '地図をクリックして地点を置く',
      placing: '地図上の場所をクリックしてください（Esc で取消）', latlon: '緯度, 経度 を入力',
      place_here: 'ここに置く', no_point: '地点なし', none: '候補なし。', empty: '確認待ちはありません。',
      saved: function (name) { return name + ' の判断を保存しました。'; },
      failed: function (m) { return '保存できませんでした: ' + m; }, bad_point: '緯度, 経度 を十進の度で（例 51.5, 113.2）',
      candidates: '候補'
    }
  };
  function t(key) {
    var lang = document.documentElement.getAttribute('lang') === 'ja' ? 'ja' : 'en';
    return TEXT[lang][key];
  }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    return node;
  }

  var queue = [];
  var selected = -1;
  var placing = false;
  var lastStatus = '';
  var shown = L.layerGroup().addTo(map);
  var whoInput = el('input', null, { id: 'review-who', type: 'text', autocomplete: 'name', maxlength: 200 });
  var whyInput = el('input', null, { id: 'review-why', type: 'text', maxlength: 500 });
  try { whoInput.value = window.localStorage.getItem('camps-review-who') || ''; } catch (e) { /* private mode */ }

  function key(item) { return item.katakana + '|' + item.region; }

  function draw() {
    var keep = selected >= 0 && queue[selected] ? key(queue[selected]) : null;
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    panel.hidden = false;
    panel.setAttribute('data-names', String(queue.length));
    panel.appendChild(el('h2', t('title'), { id: 'review-title' }));
    var rows = queue.reduce(function (s, q) { return s + q.rows; }, 0);
    panel.appendChild(el('p', queue.length ? t('summary')(queue.length, rows) : t('empty'), { class: 'hint' }));
    [[whoInput, 'who'], [whyInput, 'why']].forEach(function (pair) {
      panel.appendChild(el('label', t(pair[1]), { for: pair[0].id }));
      panel.appendChild(pair[0]);
    });
    var list = el('ul', null, { id: 'review-queue', class: 'review-queue' });
    queue.forEach(function (item, i) {
      var li = el('li', null, { 'data-name': item.katakana });
      var button = el('button', null, { type: 'button', 'aria-pressed': String(i === selected), 'aria-controls': 'review-detail' });
      button.appendChild(el('span', item.katakana, { class: 'name' }));
      button.appendChild(el('span', [item.region, t('rows')(item.rows)].filter(Boolean).join(' · '), { class: 'sub' }));
      button.addEventListener('click', function () { select(i); });
      li.appendChild(button);
      list.appendChild(li);
    });
    panel.appendChild(list);
    var detail = el('div', null, { id: 'review-detail', class: 'review-detail' });
    panel.appendChild(detail);
    panel.appendChild(el('p', lastStatus, { id: 'review-status', role: 'status', 'aria-live': 'polite' }));
    if (keep) {
      selected = queue.map(key).indexOf(keep);
    }
    if (selected >= 0) { showDetail(detail, queue[selected]); }
  }

  function select(i) {
    selected = i;
    placing = false;
    draw();
    var first = panel.querySelector('#review-detail button');
    if (first) { first.focus(); }
  }

  function showDetail(detail, item) {
    detail.appendChild(el('h3', item.katakana));
    detail.appendChild(el('p', item.reason, { class: 'hint' }));
    detail.appendChild(el('h4', t('candidates')));
    var list = el('ol', null, { class: 'review-candidates' });
    var points = [];
    shown.clearLayers();
    (item.candidates || []).forEach(function (c) {
      var li = el('li', null, { 'data-place-id': c.place_id });
      var where = c.lat === null || c.lat === undefined ? t('no_point') : Number(c.lat).toFixed(3) + ', ' + Number(c.lon).toFixed(3);
      li.appendChild(el('span', c.name + ' (' + Number(c.score).toFixed(2) + ') ' + [c.region, c.country].filter(Boolean).join(', ') + ' — ' + where));
      var accept = el('button', t('accept'), { type: 'button', class: 'review-accept', 'data-place-id': c.place_id });
      accept.addEventListener('click', function () { send(item, { action: 'accept', place_id: c.place_id }); });
      li.appendChild(accept);
      list.appendChild(li);
      if (c.lat !== null && c.lat !== undefined) {
        var marker = L.circleMarker([c.lat, c.lon], { radius: 9, color: '#d7191c', weight: 3, fillOpacity: 0.2 });
        marker.bindTooltip(el('span', c.name), { permanent: true, direction: 'right' });
        marker.on('click', function () { accept.focus(); });
        shown.addLayer(marker);
        points.push([c.lat, c.lon]);
      }
    });
    if (!(item.candidates || []).length) { detail.appendChild(el('p', t('none'))); }
    detail.appendChild(list);
    var reject = el('button', t('reject'), { type: 'button', class: 'review-reject' });
    reject.addEventListener('click', function () { send(item, { action: 'reject' }); });
    detail.appendChild(reject);
    var place = el('button', placing ? t('placing') : t('place'), { type: 'button', class: 'review-place', 'aria-pressed': String(placing) });
    place.addEventListener('click', function () { setPlacing(!placing); });
    detail.appendChild(place);
    var typed = el('input', null, { id: 'review-latlon', type: 'text', inputmode: 'decimal', placeholder: '51.5, 113.2' });
    detail.appendChild(el('label', t('latlon'), { for: 'review-latlon' }));
    detail.appendChild(typed);
    var here = el('button', t('place_here'), { type: 'button', class: 'review-place-typed' });
    function placeTyped() {
      var parts = typed.value.split(/[,\s]+/).filter(Boolean).map(Number);
      if (parts.length !== 2 || !parts.every(isFinite)) { status(t('bad_point')); typed.focus(); return; }
      send(item, { action: 'place', lat: parts[0], lon: parts[1] });
    }
    here.addEventListener('click', placeTyped);
    typed.addEventListener('keydown', function (event) { if (event.key === 'Enter') { event.preventDefault(); placeTyped(); } });
    detail.appendChild(here);
    if (points.length) { map.fitBounds(L.latLngBounds(points).pad(0.5), { maxZoom: 8 }); }
  }

  function setPlacing(on) {
    placing = on;
    map.getContainer().classList.toggle('placing', on);
    var button = panel.querySelector('.review-place');
    if (button) { button.textContent = on ? t('placing') : t('place'); button.setAttribute('aria-pressed', String(on)); }
  }
  map.on('click', function (event) {
    if (!placing || selected < 0 || !queue[selected]) { return; }
    setPlacing(false);
    send(queue[selected], { action: 'place', lat: event.latlng.lat, lon: L.Util.wrapNum(event.latlng.lng, [-180, 180], true) });
  });
  document.addEventListener('keydown', function (event) { if (event.key === 'Escape' && placing) { setPlacing(false); } });

  function status(text) {
    lastStatus = text;
    var node = document.getElementById('review-status');
    if (node) { node.textContent = text; }
  }

  function send(item, decision) {
    var body = { name: item.katakana, region: item.region, who: whoInput.value, why: whyInput.value };
    Object.keys(decision).forEach(function (k) { body[k] = decision[k]; });
    try { window.localStorage.setItem('camps-review-who', whoInput.value); } catch (e) { /* private mode */ }
    fetch('/review/decide', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (json) { return { ok: r.ok, json: json }; }); })
      .then(function (answer) {
        if (!answer.ok) { status(t('failed')(String(answer.json.message || ''))); return; }
        status(t('saved')(item.katakana));
        whyInput.value = '';
        shown.clearLayers();
        selected = -1;
        return redraw().then(function () { return refresh(true); });
      })
      .catch(function (error) { status(t('failed')(String(error))); });
  }

  function refresh(focusNext) {
    return fetch('/review/queue', { headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok && /json/.test(r.headers.get('content-type') || '') ? r.json() : null; })
      .then(function (json) {
        if (!json || !Array.isArray(json.queue)) { return; }
        queue = json.queue;
        draw();
        panel.setAttribute('data-ready', 'true');
        if (focusNext) {
          var next = panel.querySelector('#review-queue button');
          if (next) { next.focus(); }
        }
      })
      .catch(function () { /* read-only service or a static host: no panel */ });
  }
  // The layers with every decision so far (this session's and the file's earlier ones).
  var redrawn = 0;
  function redraw() {
    return fetch('/review/layers', { headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (json) {
        if (!json || !Array.isArray(json.features) || !window.CAMPS_REDRAW) { return; }
        window.CAMPS_REDRAW(json);
        redrawn += 1;
        map.getContainer().setAttribute('data-redrawn', String(redrawn));
      })
      .catch(function () { /* no rows to redraw: the queue still works */ });
  }
  document.addEventListener('camps:language', function () { if (!panel.hidden) { draw(); } });
  refresh(false).then(function () { if (!panel.hidden) { return redraw(); } });
})();
