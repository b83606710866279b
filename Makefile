# Risk maps (riskmap) — QGIS plugin for county disaster-risk mapping.
#   make demo   set up (when needed), generate the demo county and run the chain through qgis_process
#   make test   run the whole test suite in real QGIS (offscreen, and the desktop under Xvfb)
SHELL := /bin/bash
ROOT := $(abspath .)
PY := /usr/bin/python3
VENV := $(ROOT)/.venv
VPY := $(VENV)/bin/python
SITE := $(VENV)/lib/python3.11/site-packages
BUILD := $(ROOT)/build
PLUGINS := $(BUILD)/plugins
PROFILE := $(BUILD)/qgis-home
OUT ?= $(ROOT)/demo_output
DEBS := qgis python3-qgis qgis-providers gdal-bin libgdal-dev libproj-dev libgeos-dev python3-pyproj \
        python3-venv python3-dev build-essential poppler-utils chromium chromium-driver fonts-noto-cjk zip \
        xvfb python3-fonttools
# Debian's /usr/bin/qgis_process wrapper passes --noversioncheck, which 3.22 rejects: call the binary.
QGIS_ENV := QT_QPA_PLATFORM=offscreen PYTHONPATH=$(SITE) QGIS_PLUGINPATH=$(PLUGINS) XDG_DATA_HOME=$(PROFILE) \
            XDG_RUNTIME_DIR=$(BUILD)/runtime RISKMAP_QGIS_PROCESS=/usr/bin/qgis_process.bin
QGIS_PROCESS := env $(QGIS_ENV) /usr/bin/qgis_process.bin

.PHONY: setup debs venv demo test bench package deploy plugin-link screenshots clean

setup: debs venv plugin-link

debs:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing from Debian: $$missing"; \
	  [ "$$(id -u)" = 0 ] || { echo "run as root (or: sudo apt-get install -y $$missing)"; exit 1; }; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

venv: $(VENV)/.installed

# shapely, pyogrio and rasterio are built against Debian's GEOS/GDAL/PROJ: their wheels bundle
# their own PROJ/GDAL and make qgis_process crash on exit (exit 134/139) when imported beside QGIS.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	[ -x $(VPY) ] || $(PY) -m venv --system-site-packages $(VENV)
	$(VPY) -m pip install -q --upgrade "pip==24.2"
	$(VPY) -m pip install -q --no-binary shapely,pyogrio,rasterio -r requirements-dev.txt
	touch $@

plugin-link:
	@mkdir -p $(PLUGINS) $(PROFILE) $(BUILD)/runtime && chmod 700 $(BUILD)/runtime
	@ln -sfn $(ROOT) $(PLUGINS)/riskmap
	@$(QGIS_PROCESS) plugins enable riskmap >/dev/null 2>&1 || true

demo: setup
	env $(QGIS_ENV) $(VPY) -m tools.demo --out $(OUT)

test: setup
	env $(QGIS_ENV) $(VPY) -P -m pytest -p no:cacheprovider tests

bench: setup
	env $(QGIS_ENV) $(VPY) -m bench.run --out BENCHMARKS.md

# the zip holds the plugin and docs/algorithms (each algorithm's help links its page there)
package:
	@rm -rf $(BUILD)/package && mkdir -p $(BUILD)/package/riskmap
	git ls-files -z --cached --others --exclude-standard | grep -zv -E '^(tests|bench|tools|\.ci)/|^\.git' | \
	  grep -zv -E '^docs/' | xargs -0 -I{} cp --parents {} $(BUILD)/package/riskmap/
	git ls-files -z --cached --others --exclude-standard docs/algorithms | \
	  xargs -0 -I{} cp --parents {} $(BUILD)/package/riskmap/
	cd $(BUILD)/package && rm -f ../riskmap.zip && zip -qr ../riskmap.zip riskmap
	@echo "Plugin zip: $(BUILD)/riskmap.zip"

# every dialog, photographed in the real desktop under Xvfb (docs/images/dialogs)
screenshots: setup
	env $(QGIS_ENV) $(VPY) -m tools.desktop --screenshots docs/images/dialogs

deploy: package venv
	$(VPY) -m tools.deploy --zip $(BUILD)/riskmap.zip --site $(SITE)

clean:
	rm -rf $(BUILD) $(OUT)
