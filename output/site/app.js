/* The camps web map: layers, legend, decluttered labels, popups, search, language switch.
 *
 * Data come from data/camps.js (window.CAMPS_DATA, written by pipeline/export/site.py)
 * and data/background.js. Every text from the data goes into the page through
 * textContent or setAttribute, never innerHTML: a name may hold quotes or <script>.
 * When the page is served over http(s) by `camps serve`, a same-origin /lookup
 * endpoint, if it answers, adds the pipeline's own lookup of any name to the search.
 */
(function () {
  'use strict';

  var DATA = window.CAMPS_DATA || { type: 'FeatureCollection', features: [], legend: [] };
  var BACKGROUND = window.CAMPS_BACKGROUND || { type: 'FeatureCollection', features: [] };
  var LEGEND = DATA.legend || [];
  var SVG = 'http://www.w3.org/2000/svg';

  // --- interface text ------------------------------------------------------------------
  var TEXT = {
    en: {
      title: 'Japanese POW camps in the USSR and Mongolia, 1945-1956',
      search_label: 'Find a place', search_hint: 'Katakana, romaji, Latin or Cyrillic.',
      legend: 'Legend', lang: '日本語',
      note2: 'Symbols show the principal area of a labour camp, not the exact site of a camp (NOTE 2 of the ministry\'s map). Circles show how far the camp may lie from the point.',
      region_point: 'Region centre: only the 1945 region is known (dashed)',
      review: 'Place under review (dashed orange outline)',
      cyrillic: 'Cyrillic', latin: 'Latin', romaji: 'Romaji', region: '1945 region',
      klass: 'Symbol class', figure: 'Detainees', figure_source: 'source of the figure',
      basis: 'Class from', certainty: 'Certainty', radius: 'Radius', method: 'Method',
      spellings: 'Spellings in the register', rows: 'rows',
      camp_no: 'GUPVI camp no.', map_no: 'Map no.', sources: 'Sources', candidates: 'Candidates considered',
      none: 'none', unknown: 'unknown', no_match: 'No place found for this name.',
      from_service: 'lookup service',
      certain: 'certain', 'less-certain': 'less certain', uncertain: 'uncertain',
      near: function (p) {
        return 'the place ' + (p.latin || p.katakana) + (p.region ? ' (' + p.region + ')' : '') +
          '; the camp lay within about ' + km(p.uncertainty_km) + ' (' + TEXT.en[p.certainty] + ')';
      },
      in_region: function (p) {
        return 'somewhere in ' + (p.region || 'its region') + ': only the region is known; the point is its centre and the camp may lie up to ' + km(p.uncertainty_km) + ' away';
      },
      district: function (p) {
        return 'Camp district No. ' + p.district + ', placed on the ' + (p.region_point ? 'region' : 'place') + ' it was named after, not on the camp itself: ';
      }
    },
    ja: {
      title: 'ソ連・モンゴルの日本人抑留者収容所 1945〜1956年',
      search_label: '地名を探す', search_hint: 'カタカナ・ローマ字・ラテン文字・キリル文字で入力',
      legend: '凡例', lang: 'English',
      note2: '記号は収容所の所在地域を示すもので、収容所の正確な位置ではありません（厚生省地図の注2）。円は収容所が点からどれだけ離れうるかを示します。',
      region_point: '地域の中心：1945年の州・地方しか分からない（破線）',
      review: '確認待ちの地点（橙色の破線）',
      cyrillic: 'キリル文字', latin: 'ラテン文字', romaji: 'ローマ字', region: '1945年の地域',
      klass: '記号の区分', figure: '抑留者数', figure_source: '人数の出典',
      basis: '区分の根拠', certainty: '確からしさ', radius: '半径', method: '位置の決め方',
      spellings: '名簿での表記', rows: '件',
      camp_no: '収容所番号', map_no: '地図番号', sources: '出典', candidates: '検討した候補',
      none: 'なし', unknown: '不明', no_match: 'この名前の地点は見つかりません。',
      from_service: '照会サービス',
      certain: '確実', 'less-certain': 'やや不確実', uncertain: '不確実',
      near: function (p) {
        return (p.katakana || p.latin) + (p.region ? '（' + p.region + '）' : '') +
          '：収容所はこの地点から約' + km(p.uncertainty_km) + '以内（' + TEXT.ja[p.certainty] + '）';
      },
      in_region: function (p) {
        return (p.region || 'その地域') + 'のどこか：地域しか分からず、点は地域の中心で、収容所は最大' + km(p.uncertainty_km) + '離れている可能性があります';
      },
      district: function (p) {
        return '第' + p.district + '地区：収容所そのものではなく、名前の由来の' + (p.region_point ? '地域' : '地名') + 'に置いた点です。';
      }
    }
  };
  // The ministry's numbered legend was not available; these Japanese labels are ours.
  var LEGEND_JA = {
    over_20000: '2万人以上（大きな丸・太枠）', over_10000: '1万人以上（黒丸）',
    under_10000: '1万人未満（小さな丸）', small: '少数（三角）', unknown: '区分不明（地図の凡例にない）'
  };
  // The values of the method and class-basis columns, in words.
  var VALUES = {
    en: {
      override: 'placed by hand (override)', place: 'town, settlement or village (gazetteer)',
      station: 'railway station (gazetteer)', geonames: 'GeoNames place (online)',
      nominatim: 'Nominatim (online geocoder)', region_centroid: 'centre of the 1945 region',
      'printed on the map': 'printed on the map', 'detainee count': 'a sourced detainee count', none: 'none'
    },
    ja: {
      override: '手作業で指定', place: '町・集落（地名辞典）', station: '駅（地名辞典）',
      geonames: 'GeoNamesの地点（オンライン）',
      nominatim: 'Nominatim（オンライン）', region_centroid: '1945年の地域の中心',
      'printed on the map': '地図に記載', 'detainee count': '出典のある抑留者数', none: 'なし'
    }
  };
  function value(text) { return (VALUES[lang] && VALUES[lang][text]) || text; }
  var lang = /^ja/i.test(navigator.language || '') ? 'ja' : 'en';
  var query = /[?&]lang=(en|ja)\b/.exec(location.search);
  if (query) { lang = query[1]; }
  function t(key) { var v = TEXT[lang][key]; return v === undefined ? (TEXT.en[key] || key) : v; }
  function km(value) {
    if (typeof value !== 'number' || !isFinite(value)) { return t('unknown'); }
    return (value < 10 ? Math.round(value * 10) / 10 : Math.round(value)) + ' km';
  }

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    return node;
  }

  // --- symbols (shapes and colours from pipeline/style.py via the data file) ----------
  var STYLE = {};
  LEGEND.forEach(function (item) { STYLE[item.id] = item; });
  function styleOf(id) { return STYLE[id] || STYLE.unknown || { shape: 'circle', size_px: 9, fill: '#bdbdbd', outline: '#808080', outline_px: 1, label_colour: '#808080' }; }

  function symbol(id, options) {
    var s = styleOf(id), size = s.size_px, pad = 4, box = size + 2 * pad;
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('width', box); svg.setAttribute('height', box);
    svg.setAttribute('viewBox', '0 0 ' + box + ' ' + box);
    svg.setAttribute('aria-hidden', 'true');
    var shape;
    if (s.shape === 'triangle') {
      shape = document.createElementNS(SVG, 'polygon');
      var c = box / 2, r = size / 2;
      shape.setAttribute('points', [c, c - r, c + r, c + r * 0.8, c - r, c + r * 0.8].join(' '));
    } else {
      shape = document.createElementNS(SVG, 'circle');
      shape.setAttribute('cx', box / 2); shape.setAttribute('cy', box / 2); shape.setAttribute('r', size / 2);
    }
    shape.setAttribute('fill', s.fill);
    shape.setAttribute('stroke', options && options.review ? '#ff7f00' : s.outline);
    shape.setAttribute('stroke-width', options && options.review ? Math.max(2, s.outline_px) : s.outline_px);
    if (options && (options.review || options.region)) { shape.setAttribute('stroke-dasharray', '3 2'); }
    if (options && options.region) { shape.setAttribute('fill-opacity', '0.35'); }
    svg.appendChild(shape);
    return { svg: svg, size: box };
  }

  // --- the map ---------------------------------------------------------------------------
  var container = document.getElementById('map');
  var map = L.map(container, { zoomSnap: 0.25, worldCopyJump: false, maxBounds: [[-10, -30], [90, 230]] });
  map.attributionControl.setPrefix('');
  map.attributionControl.addAttribution('Natural Earth · GeoNames CC BY 4.0 · Leaflet');
  L.geoJSON(BACKGROUND, {
    interactive: false,
    style: function () { return { color: '#8c8c8c', weight: 0.8, fillColor: '#f6f3ea', fillOpacity: 1 }; }
  }).addTo(map);

  // a popup fits in the map, even on a phone where the map is half the screen
  var popupHeight = Math.max(150, Math.round((container.clientHeight || 400) * 0.6));
  var layers = {};       // class id -> L.LayerGroup
  var entries = [];      // {feature, marker, circle, label}
  var counts = {};
  var rank = {};
  LEGEND.forEach(function (item, i) { rank[item.id] = i; layers[item.id] = L.layerGroup().addTo(map); counts[item.id] = 0; });
  function groupOf(id) {
    if (!layers[id]) { layers[id] = L.layerGroup().addTo(map); counts[id] = 0; rank[id] = LEGEND.length; }
    return layers[id];
  }

  function points(features) {
    return (features || []).filter(function (f) {
      return f && f.geometry && f.geometry.type === 'Point' && f.properties;
    });
  }

  // Draw (or redraw, when `camps serve --review` sends the layers after a decision)
  // every feature: markers, labels, uncertainty circles, counts and search names.
  function drawFeatures(features) {
    Object.keys(layers).forEach(function (id) { layers[id].clearLayers(); counts[id] = 0; });
    entries = [];
    points(features).forEach(addFeature);
    entries.forEach(function (e) { e.keys = (e.feature.properties.names || []).map(fold); });
    container.setAttribute('data-features', String(entries.length));
  }

  function addFeature(f) {
    var p = f.properties, cls = STYLE[p['class']] ? p['class'] : 'unknown';
    var lon = f.geometry.coordinates[0], lat = f.geometry.coordinates[1];
    var group = groupOf(cls);
    counts[cls] = (counts[cls] || 0) + 1;
    if (typeof p.uncertainty_km === 'number' && p.uncertainty_km > 0) {
      L.circle([lat, lon], {
        radius: p.uncertainty_km * 1000, interactive: false,
        color: p.region_point ? '#7a4fa3' : styleOf(cls).label_colour, weight: p.region_point ? 1.5 : 1,
        dashArray: p.region_point ? '6 5' : null, fillOpacity: p.region_point ? 0.04 : 0.08,
        className: p.region_point ? 'uncertainty region-point' : 'uncertainty'
      }).addTo(group);
    }
    var icon = symbol(cls, { review: p.review, region: p.region_point });
    var wrapper = el('span', null, {
      'data-class': cls, 'data-id': p.id, 'data-lat': lat, 'data-lon': lon,
      'data-certainty': p.certainty, 'data-uncertainty-km': p.uncertainty_km === null || p.uncertainty_km === undefined ? '' : p.uncertainty_km,
      'data-review': String(Boolean(p.review)), 'class': p.region_point ? 'symbol region-point' : 'symbol'
    });
    wrapper.appendChild(icon.svg);
    var title = [p.katakana, p.romaji, p.latin, p.cyrillic].filter(Boolean).join(' · ');
    var marker = L.marker([lat, lon], {
      icon: L.divIcon({ html: wrapper, className: 'camp-marker', iconSize: [icon.size, icon.size] }),
      title: title, alt: title, keyboard: true, riseOnHover: true
    });
    marker.bindPopup(function () { return popup(p); }, { maxWidth: 360, maxHeight: popupHeight });
    marker.bindTooltip(p.katakana || p.latin || p.id, {
      permanent: true, direction: 'right', offset: [icon.size / 2, 0], className: 'camp-label', opacity: 1
    });
    marker.addTo(group);
    var entry = { feature: f, marker: marker, cls: cls, lat: lat, lon: lon };
    entries.push(entry);
    marker.on('tooltipopen', function () { paintLabel(entry); });
  }

  function paintLabel(entry) {
    var tip = entry.marker.getTooltip(), node = tip && tip.getElement();
    if (!node) { return; }
    node.style.color = styleOf(entry.cls).label_colour;
    var p = entry.feature.properties;
    node.setAttribute('title', [p.romaji, p.latin].filter(Boolean).join(' / '));
  }

  // Labels never overlap: larger classes and surer places first, the rest hidden.
  function declutter() {
    var taken = [], cell = 64, grid = {};
    var order = entries.filter(function (e) { return map.hasLayer(e.marker) && e.marker.getTooltip() && e.marker.getTooltip().getElement(); });
    order.sort(function (a, b) {
      return (rank[a.cls] - rank[b.cls]) || (a.feature.properties.uncertainty_km || 0) - (b.feature.properties.uncertainty_km || 0);
    });
    order.forEach(function (e) { e.marker.getTooltip().getElement().classList.remove('hidden'); });
    var rects = order.map(function (e) { return e.marker.getTooltip().getElement().getBoundingClientRect(); });
    order.forEach(function (e, i) {
      var r = rects[i], keys = [], clash = false;
      for (var x = Math.floor(r.left / cell); x <= Math.floor(r.right / cell); x++) {
        for (var y = Math.floor(r.top / cell); y <= Math.floor(r.bottom / cell); y++) { keys.push(x + ':' + y); }
      }
      keys.forEach(function (k) {
        (grid[k] || []).forEach(function (o) {
          if (r.left < o.right && o.left < r.right && r.top < o.bottom && o.top < r.bottom) { clash = true; }
        });
      });
      if (clash) { e.marker.getTooltip().getElement().classList.add('hidden'); return; }
      taken.push(r);
      keys.forEach(function (k) { (grid[k] = grid[k] || []).push(r); });
    });
    container.setAttribute('data-labels', String(taken.length));
  }
  map.on('zoomend moveend resize overlayadd overlayremove', declutter);

  // --- popup: DOM nodes only, text through textContent -----------------------------------
  function row(dl, key, value) {
    dl.appendChild(el('dt', t(key)));
    var dd = el('dd');
    if (value instanceof Node) { dd.appendChild(value); } else { dd.textContent = value === '' || value === null || value === undefined ? t('unknown') : String(value); }
    dl.appendChild(dd);
  }
  function link(text, url) {
    if (/^https?:\/\//i.test(url || '')) {
      return el('a', text, { href: url, target: '_blank', rel: 'noopener noreferrer' });
    }
    return el('span', text);
  }
  function legendLabel(id) {
    return lang === 'ja' ? (LEGEND_JA[id] || id) : (styleOf(id).label || id);
  }
  function words(p) {
    var said = p.region_point ? TEXT[lang].in_region(p) : TEXT[lang].near(p);
    return p.district ? TEXT[lang].district(p) + said : said;
  }
  function popup(p) {
    var box = el('div', null, { 'class': 'popup', 'data-id': p.id });
    box.appendChild(el('h3', p.katakana || p.latin || p.id));
    box.appendChild(el('p', words(p), { 'class': 'words' }));
    var dl = el('dl');
    row(dl, 'cyrillic', p.cyrillic); row(dl, 'latin', p.latin); row(dl, 'romaji', p.romaji);
    row(dl, 'region', p.region);
    var klass = el('span', legendLabel(p['class']));
    if (p.detainees) {
      klass.appendChild(document.createTextNode(' · ' + t('figure') + ': ' + p.detainees + ' '));
      if (p.detainees_source) { klass.appendChild(link('(' + t('figure_source') + ')', p.detainees_source)); }
    }
    row(dl, 'klass', klass);
    row(dl, 'basis', value(p.class_basis));
    row(dl, 'certainty', TEXT[lang][p.certainty] || p.certainty);
    row(dl, 'radius', km(p.uncertainty_km));
    row(dl, 'method', value(p.method));
    if ((p.spellings || []).length > 1 || p.rows > 1) {
      row(dl, 'spellings', (p.spellings || []).join(' / ') + ' (' + p.rows + ' ' + t('rows') + ')');
    }
    if (p.camp_no) { row(dl, 'camp_no', p.camp_no); }
    if (p.map_no) { row(dl, 'map_no', p.map_no); }
    var sources = el('ul', null, { 'class': 'sources' });
    (p.sources || []).forEach(function (s) { var li = el('li'); li.appendChild(link(s.text, s.url)); sources.appendChild(li); });
    row(dl, 'sources', (p.sources || []).length ? sources : t('none'));
    var cands = el('ul', null, { 'class': 'candidates' });
    (p.candidates || []).forEach(function (c) {
      cands.appendChild(el('li', c.name + (typeof c.score === 'number' ? ' (' + c.score.toFixed(2) + ')' : '') + ' · ' + c.id));
    });
    row(dl, 'candidates', (p.candidates || []).length ? cands : t('none'));
    box.appendChild(dl);
    return box;
  }

  // --- legend ----------------------------------------------------------------------------
  var legendList = document.getElementById('legend');
  function drawLegend() {
    legendList.textContent = '';
    LEGEND.forEach(function (item) {
      var li = el('li', null, { 'data-class': item.id });
      var button = el('button', null, { type: 'button', 'aria-pressed': String(map.hasLayer(layers[item.id])), 'data-class': item.id });
      button.appendChild(symbol(item.id).svg);
      var label = el('span', legendLabel(item.id));
      label.style.color = item.label_colour;
      button.appendChild(label);
      button.appendChild(el('span', counts[item.id] || 0, { 'class': 'count' }));
      button.addEventListener('click', function () {
        if (map.hasLayer(layers[item.id])) { map.removeLayer(layers[item.id]); } else { map.addLayer(layers[item.id]); }
        button.setAttribute('aria-pressed', String(map.hasLayer(layers[item.id])));
        declutter();
      });
      li.appendChild(button);
      legendList.appendChild(li);
    });
    [['region_point', symbol('unknown', { region: true }).svg], ['review', symbol('unknown', { review: true }).svg]].forEach(function (pair) {
      var li = el('li', null, { 'class': 'legend-extra' });
      var span = el('span', null, { 'class': 'legend-extra-item' });
      span.appendChild(pair[1]); span.appendChild(el('span', ' ' + t(pair[0])));
      li.appendChild(span); legendList.appendChild(li);
    });
  }

  // --- search ----------------------------------------------------------------------------
  function fold(text) {
    var s = String(text || '').normalize('NFKC').toLowerCase();
    s = s.replace(/[\u3041-\u3096]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) + 0x60); });
    s = s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').normalize('NFC');
    return s.replace(/[\s\-‐‑・·'’ʼ"`().,、。]/g, '');
  }
  function distance(a, b) {
    var prev = [], cur, i, j;
    for (j = 0; j <= b.length; j++) { prev.push(j); }
    for (i = 1; i <= a.length; i++) {
      cur = [i];
      for (j = 1; j <= b.length; j++) {
        cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
      }
      prev = cur;
    }
    return prev[b.length];
  }
  // How well a name answers the query: exact, the name inside a longer query
  // (a region prefix such as チタ州), a prefix, a part, or a close spelling.
  function score(q, k) {
    if (!k || !q) { return 0; }
    if (q === k) { return 100; }
    if (k.length >= 2 && q.indexOf(k) >= 0) { return 50 + 40 * k.length / q.length; }
    if (k.indexOf(q) === 0) { return 40 + 40 * q.length / k.length; }
    if (q.length >= 2 && k.indexOf(q) > 0) { return 20 + 30 * q.length / k.length; }
    if (Math.abs(q.length - k.length) > 3) { return 0; }
    var sim = 1 - distance(q, k) / Math.max(q.length, k.length);
    return sim >= 0.7 ? 40 * sim : 0;
  }
  function search(text) {
    var q = fold(text);
    if (!q) { return []; }
    return entries.map(function (e) {
      return { entry: e, score: Math.max.apply(null, [0].concat(e.keys.map(function (k) { return score(q, k); }))) };
    }).filter(function (r) { return r.score > 0; }).sort(function (a, b) {
      return (b.score - a.score) ||
        ((a.entry.feature.properties.uncertainty_km || 1e9) - (b.entry.feature.properties.uncertainty_km || 1e9));
    }).slice(0, 8);
  }

  var input = document.getElementById('search');
  var results = document.getElementById('results');
  var status = document.getElementById('status');
  var found = [];
  var active = -1;
  function showResults(list) {
    found = list; active = list.length ? 0 : -1;
    results.textContent = '';
    list.forEach(function (r, i) {
      var p = r.entry ? r.entry.feature.properties : r.remote;
      var li = el('li', p.katakana || p.latin || p.name, { role: 'option', id: 'result-' + i, 'data-id': p.id || '', 'aria-selected': String(i === active) });
      var sub = [p.latin, p.cyrillic, p.region].filter(Boolean).join(' · ') + (r.remote ? ' (' + t('from_service') + ')' : '');
      li.appendChild(el('span', sub, { 'class': 'sub' }));
      li.addEventListener('click', function () { choose(i); });
      results.appendChild(li);
    });
    input.setAttribute('aria-activedescendant', active >= 0 ? 'result-0' : '');
  }
  function choose(i) {
    var r = found[i];
    if (!r) { status.textContent = t('no_match'); return; }
    if (r.remote) {
      map.flyTo([r.remote.lat, r.remote.lon], 8);
      status.textContent = [r.remote.name, r.remote.region].filter(Boolean).join(', ') + ' (' + t('from_service') + ')';
      return;
    }
    var e = r.entry, p = e.feature.properties;
    if (!map.hasLayer(layers[e.cls])) { map.addLayer(layers[e.cls]); drawLegend(); }
    var radius = p.uncertainty_km || 20;
    var zoom = Math.max(3, Math.min(8, Math.round(Math.log2(40075 / (radius * 8)))));
    // the popup opens once the flight is over, so Leaflet can pan all of it into view
    var opened = false;
    function open() { if (!opened) { opened = true; e.marker.openPopup(); } }
    map.once('moveend', open);
    setTimeout(open, 1000);
    map.flyTo([e.lat, e.lon], zoom, { duration: 0.6 });
    status.textContent = words(p);
  }
  function move(step) {
    if (!found.length) { return; }
    active = (active + step + found.length) % found.length;
    Array.prototype.forEach.call(results.children, function (li, i) { li.setAttribute('aria-selected', String(i === active)); });
    input.setAttribute('aria-activedescendant', 'result-' + active);
  }
  input.addEventListener('input', function () { showResults(search(input.value)); });
  input.addEventListener('keydown', function (event) {
    if (event.key === 'ArrowDown') { move(1); event.preventDefault(); }
    if (event.key === 'ArrowUp') { move(-1); event.preventDefault(); }
  });
  document.getElementById('search-form').addEventListener('submit', function (event) {
    event.preventDefault();
    if (!found.length) { showResults(search(input.value)); }
    var best = found.length ? found[Math.max(active, 0)] : null;
    if ((!best || best.score < 100) && lookupAvailable) { remoteLookup(input.value); }
    choose(Math.max(active, 0));
  });

  // --- camps serve's lookup API, when the page is served by it ---------------------------
  var lookupAvailable = false;
  function places(json) {   // any objects with a numeric lat and lon, and a name
    var out = [];
    (function walk(v) {
      if (Array.isArray(v)) { v.forEach(walk); return; }
      if (!v || typeof v !== 'object') { return; }
      var lat = Number(v.lat), lon = Number(v.lon);
      if (isFinite(lat) && isFinite(lon) && v.lat !== '' && v.lat !== null && (v.name || v.place_name)) {
        out.push({ id: String(v.id || v.place_id || ''), name: String(v.name || v.place_name), lat: lat, lon: lon, region: String(v.region_1945 || v.region || ''), latin: String(v.name || v.place_name), cyrillic: String(v.name_cyrillic || v.cyrillic || '') });
      }
      Object.keys(v).forEach(function (k) { if (typeof v[k] === 'object') { walk(v[k]); } });
    })(json);
    return out;
  }
  function remoteLookup(text) {
    fetch('/lookup?name=' + encodeURIComponent(text), { headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (json) {
        if (!json) { return; }
        var extra = places(json).slice(0, 5).map(function (p) { return { remote: p, score: 0 }; });
        if (extra.length) { showResults(found.filter(function (r) { return !r.remote; }).concat(extra)); }
      }).catch(function () { /* the static page works without the service */ });
  }
  if (/^https?:$/.test(location.protocol) && window.fetch) {
    fetch('/lookup?name=' + encodeURIComponent('チタ'), { headers: { Accept: 'application/json' } })
      .then(function (r) { lookupAvailable = r.ok && /json/.test(r.headers.get('content-type') || ''); container.setAttribute('data-lookup', String(lookupAvailable)); })
      .catch(function () { lookupAvailable = false; });
  }

  // --- language --------------------------------------------------------------------------
  function applyLanguage() {
    document.documentElement.setAttribute('lang', lang);
    Array.prototype.forEach.call(document.querySelectorAll('[data-i18n]'), function (node) {
      node.textContent = t(node.getAttribute('data-i18n'));
    });
    document.title = t('title');
    document.getElementById('lang').textContent = t('lang');
    container.setAttribute('aria-label', lang === 'ja' ? '地図' : 'Map');
    drawLegend();
    if (input.value) { showResults(search(input.value)); }
    map.closePopup();
    document.dispatchEvent(new CustomEvent('camps:language', { detail: lang }));
  }
  document.getElementById('lang').addEventListener('click', function () {
    lang = lang === 'ja' ? 'en' : 'ja';
    applyLanguage();
  });
  document.getElementById('credit').textContent = DATA.credit || '';

  // --- extent and readiness ---------------------------------------------------------------
  drawFeatures(DATA.features);
  if (entries.length) {
    map.fitBounds(L.latLngBounds(entries.map(function (e) { return [e.lat, e.lon]; })).pad(0.08));
  } else {
    map.fitBounds([[35, 20], [75, 180]]);
  }
  applyLanguage();
  entries.forEach(paintLabel);
  declutter();
  if (window.performance) { container.setAttribute('data-ready-ms', String(Math.round(performance.now()))); }
  window.CAMPS_MAP = map;  // for review.js (the review panel of `camps serve --review`)
  // review.js hands in the layers `camps serve --review` redrew after a decision
  window.CAMPS_REDRAW = function (collection) {
    map.closePopup();
    drawFeatures(collection && collection.features);
    entries.forEach(paintLabel);
    drawLegend();
    showResults(input.value ? search(input.value) : []);
    declutter();
  };
  container.setAttribute('data-ready', 'true');
})();
