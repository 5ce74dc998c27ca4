; Inno Setup script: wraps the PyInstaller folder (dist/ijs-vetting) into one Windows installer.
; Build on Windows after `make installer`:  iscc installer\windows\ijs-vetting.iss
; The station's data (database, vault, keys) lives in the user's data folder, not here, so an
; upgrade or uninstall never touches consent records or photos.

#define AppName "IJS Photo Vetting"
#define AppVersion "0.1.0"

[Setup]
AppId={{6E1C2F0B-4D7A-4F3E-9C55-1B2A7E9D4C10}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=IJS
DefaultDirName={autopf}\IJS Photo Vetting
DefaultGroupName={#AppName}
OutputDir=..\..\dist
OutputBaseFilename=ijs-vetting-setup-{#AppVersion}
SetupIconFile=..\..\build\ijs-vetting.ico
Compression=lzma2
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequired=admin

[Files]
Source: "..\..\dist\ijs-vetting\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\ijs-vetting.exe"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\ijs-vetting.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\ijs-vetting.exe"; Description: "Start {#AppName}"; Flags: nowait postinstall skipifsilent
