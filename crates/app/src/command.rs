//! What views ask for. A view pushes commands while it draws; the app applies them after
//! the frame, so drawing never changes the world halfway through.

use kartika_store::VisitTicket;

use crate::text::Lang;
use crate::ticket::PrinterTarget;
use crate::workers::clinic::ReportKind;

/// One thing a person asked for.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Switch the language (remembered).
    SetLanguage(Lang),
    /// Fill the login form with a demo account.
    UseDemoAccount(usize),
    /// Log in with the form.
    LogIn,
    /// Log out.
    LogOut,
    /// Create the facility from the set-up form.
    SetUp,
    /// Put a tray card in the demo reader.
    TapDemoCard(usize),
    /// Take the demo card out.
    PullDemoCard,
    /// Open a patient found by the search.
    OpenPatient(String),
    /// Run the search.
    Search,
    /// Open the new-patient form (with what was typed in the search).
    StartNewPatient,
    /// Close it.
    CancelNewPatient,
    /// Register the patient typed in the form.
    SaveNewPatient,
    /// Open a visit with the chosen unit, payer and care.
    RegisterVisit,
    /// Show a ticket the patient already holds, to print it again.
    Reprint(VisitTicket),
    /// Print the shown ticket.
    PrintTicket,
    /// Save the shown ticket as PDF.
    SaveTicketPdf,
    /// Done with this patient: back to "Tempelkan kartu".
    NextPatient,
    /// Open or close the settings.
    ToggleSettings,
    /// Choose the ticket printer.
    SetPrinter(PrinterTarget),
    /// Go to a screen (the desk or the reports, as the role allows).
    Show(crate::state::Screen),
    /// Choose the report.
    SetReportKind(ReportKind),
    /// A month (or, for the daily report, a day) earlier or later.
    ShiftReportPeriod(i32),
    /// One unit, or all.
    SetReportUnit(Option<String>),
    /// Count new cases only, or all.
    SetNewCasesOnly(bool),
    /// Save the report on screen as a file.
    ExportReport(kartika_report::Format),
    /// The poli this workstation serves (remembered).
    SetPoliUnit(String),
    /// Read the poli's queue again.
    RefreshPoliQueue,
    /// Panggil berikutnya.
    CallNext,
    /// Open a visit from the queue (calling the patient in when waiting).
    OpenQueueVisit {
        /// The visit.
        visit_id: String,
        /// Its patient.
        patient_number: String,
    },
    /// Cancel a visit whose patient left before being called.
    CancelQueueVisit(String),
    /// Back to the queue, leaving the visit as it stands.
    CloseVisit,
    /// Show a part of the open visit.
    SetPoliTab(crate::poli::PoliTab),
    /// Add this ICD-10 code to the open visit.
    AddDiagnosis(String),
    /// Remove this code from the open visit.
    RemoveDiagnosis(String),
    /// Save the examination form.
    SaveExamination,
    /// Save and finish the visit.
    FinishVisit,
    /// Save and refer the patient to the place typed.
    ReferVisit,
    /// Check the typed PIN and read the card's medical summary.
    ReadCardSummary,
    /// Write the medical summary form to the card.
    WriteCardSummary,
    /// Show a part of the admin's room.
    SetAdminTab(crate::admin::AdminTab),
    /// Search patients in the admin's room.
    AdminSearch,
    /// Show a patient's cards.
    AdminOpenPatient(String),
    /// Start issuing a card to the patient on screen (replacing this one, when given).
    StartIssue(Option<String>),
    /// Give up issuing.
    CancelIssue,
    /// Issue the card in the reader with the PIN typed twice.
    IssueCard,
    /// Block a card with the reason typed.
    BlockCard(String),
    /// Lift a card's block with the reason typed.
    UnblockCard(String),
    /// Terminate a returned card (the command first when it is in the reader).
    TerminateCard(String),
    /// Reset the PIN of the card in the reader to the one typed twice.
    ResetCardPin,
    /// Read the accounts, or change one.
    Staff(Option<crate::workers::clinic::StaffChange>),
    /// Read the workstations, or approve or revoke one.
    Workstation(Option<kartika_lan::WorkstationChange>),
    /// Put two records side by side: the first stays, the second would be retired.
    ComparePatients(String, String),
    /// The other record stays instead.
    SwapSurvivor,
    /// Take this field from the record that would be retired, or no longer.
    ToggleMergeField(kartika_store::MergeField),
    /// Merge the two records compared.
    MergePatients,
    /// Put the two records compared away.
    CancelMerge,
    /// Undo the merge of this retired record.
    Unmerge(String),
    /// Ask the registry about one person's records at two Puskesmas.
    RegistryMerges(crate::workers::sync::RegistryAsk),
    /// Add the account in the form.
    AddStaff,
    /// Search the audit log with the filter typed.
    AuditSearch,
    /// Check the audit chain.
    VerifyAudit,
    /// Read sync health again, sending these set-aside records again first.
    SyncDetails(Vec<String>),
    /// "Kirim ulang" to SATUSEHAT: one refused visit, or every one.
    SatusehatRetry(Option<String>),
    /// "Kirim ulang" for BPJS: a visit's refused or waiting calls, or all of them.
    BpjsRetry(Option<String>),
    /// Save the SATUSEHAT set-up form.
    SaveSatusehat,
    /// Save the facility form.
    SaveFacility,
    /// Add the unit typed.
    AddUnit,
    /// Back up now into the folder chosen.
    BackupNow,
    /// The backup folder, count or daily choice changed.
    BackupPlanChanged,
    /// Restore the copy typed.
    Restore,
}

/// Collects the commands of one frame.
#[derive(Debug, Default)]
pub struct Commands(Vec<Command>);

impl Commands {
    /// Asks for `command` after this frame.
    pub fn push(&mut self, command: Command) {
        self.0.push(command);
    }

    /// The commands, in the order they were asked for.
    pub fn take(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.0)
    }
}
