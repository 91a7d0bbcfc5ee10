//! The first run on a new workstation: the facility, its first admin, the node key.

use egui_kittest::kittest::Queryable;

use crate::support::App;

#[test]
fn the_first_run_sets_up_the_puskesmas_then_its_admin_logs_in() {
    let mut app = App::first_run();
    app.type_into("Kode Puskesmas (mis. P3674060)", "P3674070");
    app.type_into("Nama Puskesmas", "Puskesmas Ciputat");
    app.type_into("Wilayah kerja (kode kecamatan/desa)", "36.74.07");
    app.type_into("Nama admin", "Dewi Kartika");
    app.type_into("Kata sandi admin (min. 8 karakter)", "pendek");
    app.click("Buat data Puskesmas");
    app.until_text("Kata sandi minimal 8 karakter");

    // Asking for a registry needs its address and token.
    app.click("Jalankan mandiri, tanpa registry");
    app.click("Buat data Puskesmas");
    app.until_text("Isi alamat registry dan token node");
    app.click("Jalankan mandiri, tanpa registry");

    let field = app
        .harness
        .get_by_label("Kata sandi admin (min. 8 karakter)");
    field.focus();
    field.type_text("-cukup-panjang");
    app.click("Buat data Puskesmas");
    app.until_text("Berikan kunci publik node ini kepada operator registry");
    let node_pub = app.folder().join("puskesmas").join("node.pub");
    assert!(node_pub.exists(), "the node key was made beside the store");
    assert!(app.shows("Puskesmas Ciputat"));

    app.type_into("Nama pengguna", "admin");
    app.type_into("Kata sandi", "pendek-cukup-panjang");
    app.click("Masuk");
    app.until_text("Tempelkan kartu");
    assert!(app.shows("Mandiri (tanpa registry)"));
}
