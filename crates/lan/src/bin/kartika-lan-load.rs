//! A desk as a load: logs in to a clinic server on its own and registers patients and their
//! visits as fast as the server answers, each write sent again with its request id when the
//! network fails, then prints the tickets it was given as JSON. The load tests run eight of
//! these as processes at once; at a Puskesmas it measures a LAN before the desks move in.
//!
//!     KARTIKA_PASSWORD=… kartika-lan-load --server URL --user desk1 --visits 250 \
//!         --units general,dental,maternal_child --tag 1

use std::process::ExitCode;

use kartika_card::model::Sex;
use kartika_lan::{Answer, Client, Operation};
use kartika_store::{Care, NewPatient, NewVisit, Payer, VisitTicket};

struct Args {
    server: String,
    user: String,
    visits: usize,
    units: Vec<String>,
    tag: String,
}

fn args() -> Result<Args, String> {
    let mut given = std::collections::HashMap::new();
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        let key = word
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected {word}"))?;
        let value = words
            .next()
            .ok_or_else(|| format!("--{key} needs a value"))?;
        given.insert(key.to_owned(), value);
    }
    let take = |key: &str| {
        given
            .get(key)
            .cloned()
            .ok_or_else(|| format!("--{key} is missing"))
    };
    Ok(Args {
        server: take("server")?,
        user: take("user")?,
        visits: take("visits")?
            .parse()
            .map_err(|e| format!("--visits: {e}"))?,
        units: take("units")?.split(',').map(str::to_owned).collect(),
        tag: take("tag")?,
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(tickets) => match serde_json::to_string(&tickets) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<Vec<VisitTicket>, String> {
    let args = args()?;
    let password = std::env::var("KARTIKA_PASSWORD").map_err(|_| "set KARTIKA_PASSWORD")?;
    let client = Client::new(&args.server, None).map_err(|e| e.to_string())?;
    let me = client
        .login(&args.user, &password)
        .map_err(|e| e.to_string())?;
    let mut tickets = Vec::with_capacity(args.visits);
    let mut patient_number = String::new();
    for n in 0..args.visits {
        // Each patient visits every unit, then the next one comes.
        if n % args.units.len() == 0 {
            let patient = NewPatient {
                name: format!("Pasien {} {n}", args.tag),
                birth_date: "1985-06-15".into(),
                sex: Some(if n.is_multiple_of(2) {
                    Sex::Male
                } else {
                    Sex::Female
                }),
                ..NewPatient::default()
            };
            let Answer::Created { created, .. } = until_answered(
                &client,
                &me.token,
                Operation::CreatePatient {
                    patient: Box::new(patient),
                },
            )?
            else {
                return Err("the server did not answer a patient".into());
            };
            patient_number = created.patient.patient_number;
        }
        let visit = NewVisit {
            patient_number: patient_number.clone(),
            unit_code: args.units[n % args.units.len()].clone(),
            payer: Payer::General,
            care: Care::Sick,
            complaint: None,
        };
        match until_answered(&client, &me.token, Operation::RegisterVisit { visit })? {
            Answer::Registered(ticket) => tickets.push(ticket),
            other => return Err(format!("the server did not answer a ticket: {other:?}")),
        }
    }
    Ok(tickets)
}

/// Sends `operation` until the server answers, with the same request id each time.
fn until_answered(client: &Client, token: &str, operation: Operation) -> Result<Answer, String> {
    client
        .call_until_answered(token, operation, 100)
        .map_err(|e| e.to_string())
}
