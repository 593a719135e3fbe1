"""Documents: the Word templates' catalogue, contexts, rendering, validation, PDF and packs.

Public API (import from the submodules; importing this package loads nothing heavy)::

    from workers.documents.engine import DocumentEngine
    engine = DocumentEngine(settings.templates_dir)  # one per process; caches compiled templates
    docx_bytes = engine.render("invitation", context)  # -> .docx bytes; raises TemplateError

    from workers.documents.emails import render_email
    mail = render_email(settings.templates_dir, "email_invitation", context)
    mail.subject, mail.body                          # EmailText

    from workers.documents import contexts  # pure: store models -> context dicts
    ctx = contexts.invitation(review, participant, letterhead=..., iro=..., form=...)

    from workers.documents.validation import check_templates, Problem
    problems = check_templates(settings.templates_dir, kinds=["invitation"])  # [] if all good

    from workers.documents.pdf import PdfConverter, libreoffice_available
    from workers.host.runtime_dir import process_dir  # the process's private folder (runtime_dir)
    with PdfConverter("soffice", folder=process_dir(settings.runtime_dir)) as conv:
        pdf_bytes = conv.convert(docx_bytes)  # warm LibreOffice, own profile; TemplateError /
                                              # ConverterError (a fault of LibreOffice's own)

    from workers.documents.pdf_pool import ConverterPool  # several, for many threads

    from workers.documents.packs import build_pack
    pack_pdf = build_pack([invitation_pdf, form_pdf, instructions_pdf])  # one PDF (pypdf)

Kind names (``workers.documents.catalogue.KINDS``; stable, used by config/rules.yaml):
``invitation``, ``reminder``, ``return_instructions``, ``consultation_child_4_7``,
``consultation_child_8_11``, ``consultation_child_12_15``, ``consultation_child_16_plus``,
``consultation_parent``, ``consultation_carer``, ``consultation_social_worker``, ``review_record``,
``record_child_letter``, ``record_decisions``, ``escalation_informal``,
``escalation_deputy_manager``, ``escalation_group_manager``, ``escalation_head_of_service``,
``escalation_assistant_director``, ``escalation_cafcass``, and the email bodies
``email_invitation``, ``email_escalation``, ``email_escalation_outcome``, ``email_record_copy``,
``email_review_record``,
``email_writeup_reminder``, ``email_writeup_overdue``.

Every failure is a ``workers.errors.TemplateError`` naming template, part and field, never the
filled-in text (it carries personal data).
"""
