@echo off
rem Install gitopslab into .venv and bring the lab up (Docker Desktop or a Podman machine must run).
rem Arguments go to "gitopslab up", e.g. start.bat --profile observability
setlocal
cd /d "%~dp0"
where py >nul 2>nul && (set "PY=py -3") || (set "PY=python")
%PY% -c "import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)" || (
  echo start.bat: gitopslab needs Python 3.10 or newer: https://www.python.org/downloads/
  exit /b 2
)
if not exist .venv\Scripts\python.exe %PY% -m venv .venv || exit /b 2
.venv\Scripts\python.exe -m pip install -q --upgrade pip || exit /b 1
.venv\Scripts\python.exe -m pip install -q -e ".[lint]" || exit /b 1
echo gitopslab installed; activate with .venv\Scripts\activate
.venv\Scripts\gitopslab.exe up %*
exit /b %ERRORLEVEL%
