//! The Issue page's two calls, on the signing service the app holds: the form (and its
//! attached document) checked and prepared for signing like any signing form, confirmed with
//! `sign_confirm`; then the files of the certificate signed in the outbox.

use base64::Engine as _;
use tradeseal_api::{
    IssueFiles, IssuePrepare, IssuedFiles, PrintSizeView, SignPrepare, SignReview,
};

use super::{artefacts, issue_form, signed_certificate_of, FormErrors, IssueForm};
use crate::outbox::OutboxState;
use crate::signing::{unix_now, FormError, SignError, SigningService};
use crate::{Wallet, WalletError};

/// Every field at fault as one form error: the first field named, every reason said.
fn one_error(e: FormErrors) -> SignError {
    let field = e.0.first().map(|f| f.field.clone()).unwrap_or_default();
    SignError::Form(FormError {
        field,
        reason: e.to_string(),
    })
}

impl SigningService {
    /// Checks an issuer's form into a certificate (its document's SHA-256 recorded), then
    /// prepares its registration, the certificate signed by the key when confirmed.
    pub async fn issue_prepare(
        &self,
        wallet: &Wallet,
        r: &IssuePrepare,
    ) -> Result<SignReview, SignError> {
        let form = IssueForm::from_json(&r.form_json).map_err(one_error)?;
        let attachment = r
            .attachment
            .as_ref()
            .map(|f| crate::verify::file_bytes(&f.name, &f.base64))
            .transpose()?;
        let certificate = form
            .to_certificate(unix_now(), attachment.as_deref())
            .map_err(one_error)?;
        let form_json = serde_json::to_string(&issue_form(certificate))
            .map_err(|e| WalletError::Internal(e.to_string()))?;
        self.prepare(
            wallet,
            &SignPrepare {
                key_label: r.key_label.clone(),
                form_json,
            },
        )
        .await
    }

    /// The QR code and printable PDF of the certificate an outbox entry registers; refused
    /// when the registry refused it.
    pub async fn issue_files(&self, r: &IssueFiles) -> Result<IssuedFiles, SignError> {
        let entry = self.outbox().get(&r.outbox_id.to_string()).await?;
        if entry.state == OutboxState::Failed {
            return Err(SignError::Wallet(WalletError::InvalidRequest(format!(
                "the registry refused this certificate: {}",
                entry.reason.unwrap_or_default()
            ))));
        }
        let invalid = |e: super::IssuanceError| WalletError::InvalidRequest(e.to_string());
        let signed = signed_certificate_of(&entry).map_err(invalid)?;
        let a = artefacts(&signed, Some(&entry.chain_id)).map_err(invalid)?;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        Ok(IssuedFiles {
            cert_id: signed.certificate.id.to_string(),
            file_stem: signed.certificate.id.serial.to_string(),
            state: entry.state.as_str().to_owned(),
            qr_version: a.qr_version,
            print: PrintSizeView {
                modules: a.print.modules,
                quiet_zone_modules: a.print.quiet_zone_modules,
                module_mm: a.print.module_mm,
                side_mm: a.print.side_mm,
                min_side_mm: a.print.min_side_mm,
                png_dpi: a.print.png_dpi,
            },
            png_base64: b64(&a.png),
            pdf_base64: b64(&a.pdf),
            svg: a.svg,
            payload: a.payload,
            unprintable_fields: a.unprintable_fields,
        })
    }
}
