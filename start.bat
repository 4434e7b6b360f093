@echo off
rem Install gitopslab into .venv and bring the lab up (Docker Desktop or a Podman machine must run).
rem Arguments go to "gitopslab up", e.g. start.bat --profile observability
rem A second start skips the install when .venv already holds this checkout's version (works offline);
rem set REINSTALL=1 to force it.
setlocal
cd /d "%~dp0"
where py >nul 2>nul && (set "PY=py -3") || (set "PY=python")
%PY% -c "import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)" || (
  echo start.bat: gitopslab needs Python 3.10 or newer: https://www.python.org/downloads/
  exit /b 2
)
if not exist .venv\Scripts\python.exe %PY% -m venv .venv || exit /b 2
if not "%REINSTALL%"=="1" if exist .venv\Scripts\gitopslab.exe (
  .venv\Scripts\python.exe scripts\install_is_current.py && (
    echo gitopslab already installed in .venv
    goto run
  )
)
.venv\Scripts\python.exe -m pip install -q --upgrade pip || goto failed
.venv\Scripts\python.exe -m pip install -q -e ".[lint]" || goto failed
echo gitopslab installed; activate with .venv\Scripts\activate
:run
.venv\Scripts\gitopslab.exe up %*
exit /b %ERRORLEVEL%
:failed
echo start.bat: installing gitopslab into .venv failed (the first install needs PyPI); see pip's message above
exit /b 1
