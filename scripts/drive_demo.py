"""Drives the running Kartika demo through its accessibility tree (AT-SPI): saves
screenshots with ImageMagick's `import` (scripts/screenshots.sh), or taps cards and
measures the process (scripts/bench-app.sh)."""

import os
import subprocess
import sys
import time

import pyatspi

MODE = sys.argv[1]
OUT = sys.argv[2]
LIMIT = 300.0


def find(node, test, depth=0):
    """The first node under `node` for which `test` holds, depth first."""
    if node is None or depth > 60:
        return None
    try:
        if test(node):
            return node
        for i in range(node.childCount):
            hit = find(node.getChildAtIndex(i), test, depth + 1)
            if hit is not None:
                return hit
    except Exception:  # a node can vanish while the tree is walked
        return None
    return None


def app():
    desktop = pyatspi.Registry.getDesktop(0)
    for i in range(desktop.childCount):
        child = desktop.getChildAtIndex(i)
        if child is not None and "kartika" in (child.name or "").lower():
            return child
    return None


def text_of(node):
    try:
        return (node.name or "") + " " + node.queryText().getText(0, -1)
    except Exception:
        return node.name or ""


def wait_for(what, test):
    deadline = time.time() + LIMIT
    while time.time() < deadline:
        root = app()
        hit = find(root, test) if root else None
        if hit is not None:
            return hit
        time.sleep(0.2)
    raise SystemExit(f"gave up waiting for {what}")


def named(name):
    return lambda n: (n.name or "") == name


def containing(text):
    return lambda n: text in text_of(n)


def click(name):
    node = wait_for(name, named(name))
    node.queryAction().doAction(0)


def click_containing(text):
    node = wait_for(text, lambda n: text in (n.name or "") and n.getRole() == pyatspi.ROLE_PUSH_BUTTON
                    or text in (n.name or "") and n.getRole() == pyatspi.ROLE_TOGGLE_BUTTON)
    node.queryAction().doAction(0)


def type_into(label, value):
    node = wait_for(label, lambda n: (n.name or "") == label and n.getRole() in (
        pyatspi.ROLE_ENTRY, pyatspi.ROLE_PASSWORD_TEXT, pyatspi.ROLE_TEXT))
    node.queryEditableText().setTextContents(value)


def shot(name):
    time.sleep(0.6)  # let the last frame reach the screen
    subprocess.run(["import", "-window", "root", f"{OUT}/{name}.png"], check=True)


def log_in_at_the_desk():
    type_into("Nama pengguna", "loket")
    type_into("Kata sandi", "loket-demo")
    click("Masuk")
    wait_for("the desk", containing("Tempelkan kartu"))


def screenshots():
    wait_for("the login screen", named("Nama pengguna"))
    shot("login")
    log_in_at_the_desk()
    click_containing("Siti Rahayu — asli")
    wait_for("the verdict", containing("Kartu asli"))
    shot("desk-after-tap")
    click_containing("Siti Rahayu — salinan palsu")
    wait_for("the refusal", containing("ini salinan"))
    shot("desk-refused")
    click_containing("Budi Santoso — asli")
    wait_for("the verdict", containing("Kartu asli"))
    click("Daftarkan")
    wait_for("the ticket", containing("Nomor antrian"))
    shot("desk-ticket")
    click("Keluar")
    wait_for("the login screen", named("Nama pengguna"))
    type_into("Nama pengguna", "admin")
    type_into("Kata sandi", "admin-demo")
    click("Masuk")
    wait_for("the admin's desk", containing("Tempelkan kartu"))
    click("Laporan")
    click("10 besar penyakit")
    wait_for("the top ten", containing("10 Besar Penyakit"))
    shot("reports-top10")
    click("Ruang admin")
    wait_for("the admin room", containing("Tempelkan kartu pasien atau kartu kosong"))
    type_into("NIK, No. RM, No. BPJS, No. KK atau nama", "Siti Rahayu")
    click("Cari")
    click_containing("· 10-01-1990")  # the demo's own Siti, who holds a card
    wait_for("Siti's cards", containing("Blokir "))
    shot("admin-cards")
    click("Sinkronisasi")
    wait_for("BPJS beside SATUSEHAT", containing("BPJS (P-Care, Antrean FKTP)"))
    shot("admin-sync")
    click("Pasien ganda")
    wait_for("the pair with Pondok Aren", containing("Usulkan satu orang, tetap"))
    shot("admin-duplicates")
    click("Keluar")
    wait_for("the login screen", named("Nama pengguna"))
    type_into("Nama pengguna", "perawat")
    type_into("Kata sandi", "perawat-demo")
    click("Masuk")
    wait_for("the poli", containing("Antrian poli hari ini"))
    click("Panggil berikutnya (F2)")
    wait_for("the called patient", containing("Pemeriksaan"))
    for label, value in (("Sistole (mmHg)", "130"), ("Diastole (mmHg)", "85"), ("Nadi (/menit)", "88"),
                         ("Napas (/menit)", "20"), ("Suhu (°C)", "37,9"), ("Berat badan (kg)", "61,5")):
        type_into(label, value)
    type_into("Keluhan", "Batuk pilek tiga hari, demam sejak semalam")
    type_into("Cari diagnosa (kode atau kata), Enter menambahkan", "J06")
    click_containing("J06.9  Infeksi saluran pernapasan atas akut")
    wait_for("the diagnosis", containing("kasus"))
    type_into("Cari diagnosa (kode atau kata), Enter menambahkan", "fever")
    wait_for("the search", containing("R50.9"))
    shot("poli-examination")
    click("Riwayat")
    wait_for("the history", containing("Kunjungan:"))
    shot("poli-history")


def cpu_seconds(pid):
    """User and system CPU time of a process so far, from /proc."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bench():
    pid = int(OUT)
    wait_for("the login screen", named("Nama pengguna"))
    log_in_at_the_desk()
    for _ in range(5):
        for name, verdict in (("Siti Rahayu — asli", "Kartu asli"), ("Budi Santoso — asli", "Kartu asli")):
            click_containing(name)
            wait_for("the verdict", containing(verdict))
            wait_for("the patient", containing(name.split(" — ")[0]))
            click("Cabut kartu")
            wait_for("the empty reader", containing("00 00: menunggu kartu"))
            time.sleep(0.3)
    click_containing("Siti Rahayu — asli")
    wait_for("the verdict", containing("Kartu asli"))
    time.sleep(2)
    print(f"bench: rss after a tap {rss_mb(pid):.1f} MB", flush=True)
    before = cpu_seconds(pid)
    time.sleep(10)
    print(f"bench: idle cpu over 10 s {cpu_seconds(pid) - before:.3f} s", flush=True)


if MODE == "screenshots":
    screenshots()
else:
    bench()
