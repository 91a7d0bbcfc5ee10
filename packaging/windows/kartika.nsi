; Kartika's Windows installer: the program in Program Files with its Start menu entries, and
; on the server PC (the "Server klinik" part, or /SERVER when silent) the clinic server as a
; Windows service. Uninstalling removes the program and the service and leaves the data
; (%LOCALAPPDATA%\Kartika, %PROGRAMDATA%\Kartika): they are the Puskesmas's records.
; Built by scripts/build-installer.sh, which defines EXE, ICON, VERSION and OUT.

; A 64-bit installer for a 64-bit program (it also runs under Wine without 32-bit Wine).
Target amd64-unicode
!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"
!include "Sections.nsh"

Name "Kartika ${VERSION}"
OutFile "${OUT}"
InstallDir "$PROGRAMFILES64\Kartika"
RequestExecutionLevel admin
SetCompressor /SOLID lzma
!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Kartika"

!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "Indonesian"
!insertmacro MUI_LANGUAGE "English"

Section "Kartika (aplikasi loket, poli dan admin)" SecApp
    SectionIn RO
    SetShellVarContext all
    SetOutPath "$INSTDIR"
    File "/oname=kartika.exe" "${EXE}"
    File "/oname=kartika.ico" "${ICON}"
    WriteUninstaller "$INSTDIR\uninstall.exe"
    CreateDirectory "$SMPROGRAMS\Kartika"
    CreateShortcut "$SMPROGRAMS\Kartika\Kartika.lnk" "$INSTDIR\kartika.exe" "app" "$INSTDIR\kartika.ico"
    CreateShortcut "$SMPROGRAMS\Kartika\Kartika (demo).lnk" "$INSTDIR\kartika.exe" "demo" "$INSTDIR\kartika.ico"
    WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "Kartika"
    WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
    WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "Kartika"
    WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\kartika.ico"
    WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
    WriteRegStr HKLM "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
    WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
    WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1
SectionEnd

; The service is registered, not started: the store, the node folder and the registry's
; root key come first (docs/windows-service.md), then `kartika service start`.
Section /o "Server klinik (layanan Windows)" SecServer
    SetShellVarContext all
    nsExec::ExecToLog '"$INSTDIR\kartika.exe" service install --listen 0.0.0.0:7443 --node "$APPDATA\Kartika\node" --trust "$APPDATA\Kartika\root.pub"'
    Pop $0
    ${If} $0 != 0
        DetailPrint "Layanan kartika-clinic tidak terpasang (kode $0)."
        SetErrorLevel 2
    ${EndIf}
SectionEnd

Function .onInit
    SetShellVarContext all
    ${GetParameters} $R0
    ClearErrors
    ${GetOptions} $R0 "/SERVER" $R1
    ${IfNot} ${Errors}
        !insertmacro SelectSection ${SecServer}
    ${EndIf}
FunctionEnd

Section "Uninstall"
    SetShellVarContext all
    ; No service on a desk PC: kartika.exe says so, and nothing else happens.
    nsExec::ExecToLog '"$INSTDIR\kartika.exe" service uninstall'
    Pop $0
    Delete "$INSTDIR\kartika.exe"
    Delete "$INSTDIR\kartika.ico"
    Delete "$INSTDIR\uninstall.exe"
    RMDir "$INSTDIR"
    RMDir /r "$SMPROGRAMS\Kartika"
    DeleteRegKey HKLM "${UNINSTALL_KEY}"
SectionEnd
