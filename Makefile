# The two commands of the README: `make run` and `make test`. Both set up everything first.
.PHONY: run test setup setup-gui lint bench bench-scale screenshots installer

run: setup-gui
	.venv/bin/ijs-vetting

test: setup
	.venv/bin/ruff check ijs_vetting tests installer
	.venv/bin/lint-imports
	.venv/bin/mypy
	scripts/with-postgres.sh .venv/bin/python -m pytest

setup:
	scripts/bootstrap.sh

setup-gui:
	scripts/bootstrap.sh gui

lint: setup
	.venv/bin/ruff check ijs_vetting tests installer
	.venv/bin/lint-imports
	.venv/bin/mypy

# Screenshots of every screen under a virtual X server, at 100% and 150% scaling.
screenshots: setup-gui
	command -v xvfb-run >/dev/null || (apt-get update -qq && apt-get install -y -qq xvfb)
	xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/screenshots.py screenshots
	QT_SCALE_FACTOR=1.5 xvfb-run -a -s "-screen 0 2049x1152x24" .venv/bin/python scripts/screenshots.py screenshots

# Speed and memory of the whole import against plain face_recognition (prints a table).
bench: setup
	.venv/bin/python -m bench.run_faces

# Every screen and command at 2,000 and 20,000 photos (issue 15; builds both stations once, cached
# in .cache/bench-scale/). Under scripts/with-postgres.sh it runs on PostgreSQL.
bench-scale: setup-gui
	.venv/bin/python -m bench.scale

# The frozen app in dist/ijs-vetting/ (PyInstaller, for the platform it runs on): installer/README.md.
installer:
	scripts/bootstrap.sh installer
	.venv/bin/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller installer/ijs-vetting.spec
