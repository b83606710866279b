/* riskmap web map helpers, inlined into every exported page (after Leaflet).
 * Attribute values only ever reach the page through textContent: never innerHTML. */
var riskmap = (function () {
  "use strict";

  function text(tag, cls, value) {
    var el = document.createElement(tag);
    if (cls) { el.className = cls; }
    el.textContent = value === null || value === undefined ? "" : String(value);
    return el;
  }

  function popup(title, classTitle, classLabel, labels, values) {
    var div = document.createElement("div");
    div.className = "riskmap-popup";
    div.appendChild(text("div", "riskmap-popup-title", title));
    var table = document.createElement("table");
    function row(key, value) {
      if (value === null || value === undefined || value === "") { return; }
      var tr = document.createElement("tr");
      tr.appendChild(text("th", null, key));
      tr.appendChild(text("td", null, value));
      table.appendChild(tr);
    }
    if (classLabel) { row(classTitle, classLabel); }
    for (var i = 0; i < labels.length; i++) { row(labels[i], values ? values[i] : null); }
    div.appendChild(table);
    return div;
  }

  /* Ray casting: is [lon, lat] inside a GeoJSON Polygon / MultiPolygon's rings? (holes by the even-odd rule) */
  function inRings(pt, coords, multi) {
    var polys = multi ? coords : [coords], inside = false;
    polys.forEach(function (rings) {
      rings.forEach(function (ring) {
        for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
          var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
          if (((yi > pt[1]) !== (yj > pt[1])) && (pt[0] < (xj - xi) * (pt[1] - yi) / (yj - yi) + xi)) {
            inside = !inside;
          }
        }
      });
    });
    return inside;
  }

  function column(col, k) {
    return col && col.d ? col.d[col.i[k]] : col[k];
  }

  /* The grid cell (piece) under a click on a dissolved grid (risk_plugin/webmap_layers.py grid_lookup):
   * lon/lat -> (col, row) by the fitted polynomials, then the dense index; -1 = no cell there. */
  function gridPiece(k, latlng) {
    var x = (latlng.lng - k.mid[0]) / k.scale[0], y = (latlng.lat - k.mid[1]) / k.scale[1];
    var cr = k.fit.map(function (coef) {
      return coef.reduce(function (s, a, i) {
        return s + a * Math.pow(x, k.terms[i][0]) * Math.pow(y, k.terms[i][1]);
      }, 0);
    });
    var c = Math.floor(cr[0]) - k.c0, r = Math.floor(cr[1]) - k.r0;
    if (c < 0 || r < 0 || c >= k.ncols || r >= k.nrows) { return -1; }
    var at = k.index[r * k.ncols + c];
    if (at > 0) { return at - 1; }
    if (at < 0) {
      var pt = [latlng.lng, latlng.lat], found = -1;
      k.multi[-at - 1].forEach(function (p) {
        if (found < 0 && (inRings(pt, p[1], false) || inRings(pt, p[1], true))) { found = p[0]; }
      });
      return found;
    }
    return -1;
  }

  /* data: {g: [GeoJSON geometry], c: [class index or -1] | null, v: [[popup values]], k: grid lookup | null}
   * opts: {name, pane, styles: [style per class], style, radius, labels, classTitle, classLabels,
   *        labelColumn, popup, interactive} */
  function vectorLayer(data, opts) {
    var features = data.g.map(function (geom, i) {
      return {type: "Feature", geometry: geom, properties: {i: i}};
    });
    function styleOf(i) {
      var c = data.c ? data.c[i] : -1;
      return c >= 0 ? opts.styles[c] : opts.style;
    }
    var layer = L.geoJSON({type: "FeatureCollection", features: features}, {
      pane: opts.pane,
      interactive: opts.interactive !== false,
      style: function (f) { return styleOf(f.properties.i); },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, L.extend({pane: opts.pane, radius: opts.radius}, styleOf(f.properties.i)));
      },
      onEachFeature: function (f, layer) {
        var i = f.properties.i;
        var c = data.c ? data.c[i] : -1;
        if (opts.popup) {
          layer.bindPopup(function () {
            return popup(opts.name, opts.classTitle, c >= 0 ? opts.classLabels[c] : null, opts.labels, data.v[i]);
          }, {maxWidth: 380});
          // this feature's popup, not also a grid cell's below it
          layer.on("click", function (e) { L.DomEvent.stopPropagation(e); });
        }
        if (opts.labelColumn !== null && data.v[i] && data.v[i][opts.labelColumn] !== null) {
          layer.bindTooltip(text("span", null, data.v[i][opts.labelColumn]),
                            {permanent: true, direction: "center", className: "riskmap-label"});
        }
      }
    });
    if (data.k) {       // a dissolved grid: a click anywhere on it shows the cell clicked, not the merged polygon
      var k = data.k;
      var onClick = function (e) {
        var p = gridPiece(k, e.latlng);
        if (p < 0) { return; }
        var values = k.v.map(function (col) { return column(col, p); });
        var cls = k.c[p];
        L.popup({maxWidth: 380}).setLatLng(e.latlng)
          .setContent(popup(opts.name, opts.classTitle, cls >= 0 ? opts.classLabels[cls] : null, k.labels, values))
          .openOn(layer._map);
      };
      layer.gridPiece = function (latlng) { return gridPiece(k, latlng); };
      layer.on("add", function () { layer._map.on("click", onClick); });
      layer.on("remove", function () { if (layer._map) { layer._map.off("click", onClick); } });
    }
    return layer;
  }

  function control(map, element, position) {
    var ctl = L.control({position: position});
    ctl.onAdd = function () {
      L.DomEvent.disableClickPropagation(element);
      L.DomEvent.disableScrollPropagation(element);
      element.style.display = "";
      return element;
    };
    ctl.addTo(map);
    return ctl;
  }

  /* Show a legend section only while one of its layers is on the map. */
  function syncLegend(map, sections) {
    function update() {
      sections.forEach(function (s) {
        var el = document.getElementById(s.id);
        if (!el) { return; }
        var on = s.layers.some(function (l) { return map.hasLayer(l); });
        el.style.display = on ? "" : "none";
      });
    }
    map.on("overlayadd overlayremove layeradd layerremove", update);
    update();
  }

  /* Popups open clear of the controls in the top corners (title, layer list): Leaflet pans the map so that a popup's
   * top stays below the lower of the two; they would otherwise slide under the layer list (controls draw above
   * popups). Recomputed when the window changes size or a layer list entry toggles. */
  function popupsClearOfControls(map) {
    function update() {
      var box = map.getContainer().getBoundingClientRect(), bottom = 0;
      [".leaflet-top.leaflet-left", ".leaflet-top.leaflet-right"].forEach(function (sel) {
        var corner = map.getContainer().querySelector(sel);
        if (!corner) { return; }
        Array.prototype.forEach.call(corner.children, function (el) {
          bottom = Math.max(bottom, el.getBoundingClientRect().bottom - box.top);
        });
      });
      L.Popup.mergeOptions({autoPanPaddingTopLeft: L.point(10, Math.ceil(bottom) + 10),
                            autoPanPaddingBottomRight: L.point(10, 10)});
    }
    map.on("resize overlayadd overlayremove", update);
    update();
    return update;
  }

  return {vectorLayer: vectorLayer, control: control, syncLegend: syncLegend, popup: popup,
          popupsClearOfControls: popupsClearOfControls};
})();
