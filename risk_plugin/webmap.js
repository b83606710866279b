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

  /* data: {g: [GeoJSON geometry], c: [class index or -1] | null, v: [[popup values]]}
   * opts: {name, pane, styles: [style per class], style, radius, labels, classTitle, classLabels,
   *        labelColumn, popup} */
  function vectorLayer(data, opts) {
    var features = data.g.map(function (geom, i) {
      return {type: "Feature", geometry: geom, properties: {i: i}};
    });
    function styleOf(i) {
      var c = data.c ? data.c[i] : -1;
      return c >= 0 ? opts.styles[c] : opts.style;
    }
    return L.geoJSON({type: "FeatureCollection", features: features}, {
      pane: opts.pane,
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
        }
        if (opts.labelColumn !== null && data.v[i] && data.v[i][opts.labelColumn] !== null) {
          layer.bindTooltip(text("span", null, data.v[i][opts.labelColumn]),
                            {permanent: true, direction: "center", className: "riskmap-label"});
        }
      }
    });
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

  return {vectorLayer: vectorLayer, control: control, syncLegend: syncLegend, popup: popup};
})();
