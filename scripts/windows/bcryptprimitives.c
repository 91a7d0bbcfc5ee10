/* Wine 8.0 lacks bcryptprimitives.dll, from which Rust's standard library takes
   ProcessPrng. This stand-in answers it with RtlGenRandom (SystemFunction036 in advapi32),
   which Wine has. Built beside the test programs by scripts/test-windows.sh; never shipped:
   Windows 10 and later have the real one. */
#include <windows.h>

typedef BOOLEAN(WINAPI *GenRandom)(PVOID, ULONG);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    static GenRandom gen;
    if (!gen) {
        HMODULE advapi = LoadLibraryA("advapi32.dll");
        if (!advapi) return FALSE;
        gen = (GenRandom)GetProcAddress(advapi, "SystemFunction036");
        if (!gen) return FALSE;
    }
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!gen(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
