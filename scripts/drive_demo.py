"""Drives the running Kartika demo through its accessibility tree (AT-SPI) and saves
screenshots with ImageMagick's `import`. Called by scripts/screenshots.sh."""

import subprocess
import sys
import time

import pyatspi

OUT = sys.argv[1]
LIMIT = 120.0


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


wait_for("the login screen", named("Nama pengguna"))
shot("login")
type_into("Nama pengguna", "loket")
type_into("Kata sandi", "loket-demo")
click("Masuk")
wait_for("the desk", containing("Tempelkan kartu"))
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
