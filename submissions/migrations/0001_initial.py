"""The electronic-submission models, moved here from the claims app with their tables
(claims/migrations/0007_move_submission_models_to_submissions.py): they enter this app's state
only, since their tables (still named claims_*, see Meta.db_table) exist already, with their
row-level security (claims/migrations/0004). The content types follow them, so permissions and
anything else naming a content type keep pointing at the same rows.
"""

import uuid

import django.db.models.deletion
import django.db.models.manager
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = [
    "acknowledgment",
    "batchclaim",
    "claimrejection",
    "clearinghouse",
    "controlnumbercounter",
    "submissionbatch",
]


def _relabel(apps, schema_editor, old: str, new: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    taken = set(
        content_type.objects.using(db)
        .filter(app_label=new, model__in=MOVED)
        .values_list("model", flat=True)
    )
    content_type.objects.using(db).filter(app_label=old, model__in=MOVED).exclude(
        model__in=taken
    ).update(app_label=new)


def content_types_to_submissions(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, "claims", "submissions")


def content_types_to_claims(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, "submissions", "claims")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("claims", "0007_move_submission_models_to_submissions"),
        ("tenancy", "0002_organization_pay_to_address"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Acknowledgment",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("999", "999 implementation acknowledgment"),
                                    ("277CA", "277CA claim acknowledgment"),
                                ],
                                max_length=5,
                            ),
                        ),
                        ("file_name", models.CharField(blank=True, max_length=200)),
                        ("sha256", models.CharField(max_length=64)),
                        ("content", models.TextField()),
                        (
                            "source",
                            models.CharField(
                                choices=[
                                    ("upload", "Upload"),
                                    ("api", "API"),
                                    ("folder", "Inbound folder"),
                                ],
                                max_length=8,
                            ),
                        ),
                        ("summary", models.CharField(max_length=300)),
                        ("accepted_count", models.PositiveIntegerField(default=0)),
                        ("rejected_count", models.PositiveIntegerField(default=0)),
                        (
                            "organization",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="tenancy.organization",
                            ),
                        ),
                        (
                            "received_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "claims_acknowledgment",
                        "ordering": ["-created_at"],
                    },
                    managers=[
                        ("all_tenants", django.db.models.manager.Manager()),
                        ("objects", django.db.models.manager.Manager()),
                    ],
                ),
                migrations.CreateModel(
                    name="Clearinghouse",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("name", models.CharField(max_length=60)),
                        (
                            "code",
                            models.SlugField(
                                help_text="Short name used in folder and file names", max_length=30
                            ),
                        ),
                        (
                            "receiver_name",
                            models.CharField(help_text="NM1*40 receiver name", max_length=60),
                        ),
                        (
                            "receiver_id",
                            models.CharField(help_text="ISA08 / GS03 / NM1*40 id", max_length=15),
                        ),
                        ("receiver_qualifier", models.CharField(default="ZZ", max_length=2)),
                        (
                            "submitter_id",
                            models.CharField(
                                help_text="Our ETIN / submitter id there: ISA06 / GS02 / NM1*41 id",
                                max_length=15,
                            ),
                        ),
                        ("submitter_qualifier", models.CharField(default="ZZ", max_length=2)),
                        (
                            "contact_name",
                            models.CharField(help_text="PER contact in loop 1000A", max_length=60),
                        ),
                        ("contact_phone", models.CharField(help_text="Ten digits", max_length=10)),
                        (
                            "usage",
                            models.CharField(
                                choices=[("P", "Production"), ("T", "Test")],
                                default="T",
                                max_length=1,
                            ),
                        ),
                        ("element_separator", models.CharField(default="*", max_length=1)),
                        ("component_separator", models.CharField(default=":", max_length=1)),
                        ("repetition_separator", models.CharField(default="^", max_length=1)),
                        ("segment_terminator", models.CharField(default="~", max_length=1)),
                        ("line_break_after_segment", models.BooleanField(default=False)),
                        (
                            "transport",
                            models.CharField(
                                choices=[
                                    ("folder", "Outbound folder (download and upload by hand)"),
                                    ("sftp", "SFTP to the clearinghouse"),
                                ],
                                default="folder",
                                max_length=8,
                            ),
                        ),
                        ("sftp_host", models.CharField(blank=True, max_length=255)),
                        ("sftp_port", models.PositiveIntegerField(default=22)),
                        ("sftp_username", models.CharField(blank=True, max_length=80)),
                        (
                            "sftp_password_env",
                            models.CharField(
                                blank=True,
                                help_text="Name of the environment variable holding the SFTP password (never stored)",
                                max_length=80,
                            ),
                        ),
                        (
                            "sftp_host_key",
                            models.TextField(
                                blank=True,
                                help_text="The server's public host key ('ssh-ed25519 AAAA...'), verified",
                            ),
                        ),
                        (
                            "sftp_remote_dir",
                            models.CharField(blank=True, default="inbound", max_length=255),
                        ),
                        ("is_active", models.BooleanField(default=True)),
                        (
                            "organization",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="tenancy.organization",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "claims_clearinghouse",
                        "ordering": ["name"],
                    },
                    managers=[
                        ("all_tenants", django.db.models.manager.Manager()),
                        ("objects", django.db.models.manager.Manager()),
                    ],
                ),
                migrations.CreateModel(
                    name="ControlNumberCounter",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("submitter_id", models.CharField(max_length=15)),
                        ("last_interchange", models.PositiveIntegerField(default=0)),
                        ("last_group", models.PositiveIntegerField(default=0)),
                        ("last_transaction", models.PositiveIntegerField(default=0)),
                        (
                            "clearinghouse",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="submissions.clearinghouse",
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="tenancy.organization",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "claims_controlnumbercounter",
                    },
                    managers=[
                        ("all_tenants", django.db.models.manager.Manager()),
                        ("objects", django.db.models.manager.Manager()),
                    ],
                ),
                migrations.CreateModel(
                    name="SubmissionBatch",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "claim_form",
                            models.CharField(
                                choices=[
                                    ("837P", "837P professional (CMS-1500)"),
                                    ("837I", "837I institutional (UB-04)"),
                                ],
                                max_length=4,
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("queued", "Queued"),
                                    ("building", "Building"),
                                    ("released", "Released (file ready / sent)"),
                                    ("failed", "Failed"),
                                    ("acknowledged", "Accepted by the clearinghouse (999)"),
                                    ("partial", "Partly accepted (999)"),
                                    ("rejected", "Rejected (999)"),
                                ],
                                default="queued",
                                max_length=12,
                            ),
                        ),
                        (
                            "interchange_control_number",
                            models.PositiveIntegerField(blank=True, null=True),
                        ),
                        (
                            "group_control_number",
                            models.PositiveIntegerField(blank=True, null=True),
                        ),
                        (
                            "transaction_control_number",
                            models.PositiveIntegerField(blank=True, null=True),
                        ),
                        (
                            "reference",
                            models.CharField(blank=True, help_text="BHT03", max_length=30),
                        ),
                        (
                            "envelope_created",
                            models.DateTimeField(
                                blank=True,
                                help_text="The ISA/GS date and time (kept to regenerate the file)",
                                null=True,
                            ),
                        ),
                        ("usage", models.CharField(default="T", max_length=1)),
                        ("file_name", models.CharField(blank=True, max_length=120)),
                        (
                            "content",
                            models.TextField(blank=True, help_text="The released X12 file"),
                        ),
                        ("sha256", models.CharField(blank=True, max_length=64)),
                        ("claim_count", models.PositiveIntegerField(default=0)),
                        (
                            "total_charge",
                            models.DecimalField(decimal_places=2, default=0, max_digits=14),
                        ),
                        ("progress_done", models.PositiveIntegerField(default=0)),
                        ("progress_total", models.PositiveIntegerField(default=0)),
                        ("error", models.TextField(blank=True)),
                        ("transport_detail", models.CharField(blank=True, max_length=300)),
                        ("released_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "clearinghouse",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="batches",
                                to="submissions.clearinghouse",
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="tenancy.organization",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "claims_submissionbatch",
                        "ordering": ["-created_at"],
                    },
                    managers=[
                        ("all_tenants", django.db.models.manager.Manager()),
                        ("objects", django.db.models.manager.Manager()),
                    ],
                ),
                migrations.CreateModel(
                    name="ClaimRejection",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "source",
                            models.CharField(
                                choices=[
                                    ("999", "999 implementation acknowledgment"),
                                    ("277CA", "277CA claim acknowledgment"),
                                ],
                                max_length=5,
                            ),
                        ),
                        ("reason", models.CharField(max_length=500)),
                        ("codes", models.JSONField(blank=True, default=list)),
                        ("resolved_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "acknowledgment",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="rejections",
                                to="submissions.acknowledgment",
                            ),
                        ),
                        (
                            "claim",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="rejections",
                                to="claims.claim",
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="tenancy.organization",
                            ),
                        ),
                        (
                            "batch",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="rejections",
                                to="submissions.submissionbatch",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "claims_claimrejection",
                        "ordering": ["-created_at"],
                    },
                    managers=[
                        ("all_tenants", django.db.models.manager.Manager()),
                        ("objects", django.db.models.manager.Manager()),
                    ],
                ),
                migrations.CreateModel(
                    name="BatchClaim",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("position", models.PositiveIntegerField()),
                        (
                            "ack_status",
                            models.CharField(
                                choices=[
                                    ("pending", "Waiting"),
                                    ("accepted", "Accepted"),
                                    ("rejected", "Rejected"),
                                ],
                                default="pending",
                                max_length=8,
                            ),
                        ),
                        ("ack_reason", models.CharField(blank=True, max_length=500)),
                        (
                            "claim",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="batch_items",
                                to="claims.claim",
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="tenancy.organization",
                            ),
                        ),
                        (
                            "batch",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="items",
                                to="submissions.submissionbatch",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "claims_batchclaim",
                        "ordering": ["batch", "position"],
                    },
                    managers=[
                        ("all_tenants", django.db.models.manager.Manager()),
                        ("objects", django.db.models.manager.Manager()),
                    ],
                ),
                migrations.AddField(
                    model_name="acknowledgment",
                    name="batch",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="acknowledgments",
                        to="submissions.submissionbatch",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="clearinghouse",
                    constraint=models.UniqueConstraint(
                        fields=("organization", "code"), name="clearinghouse_org_code_uniq"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="clearinghouse",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("transport", "folder"),
                            models.Q(("sftp_host", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="clearinghouse_sftp_needs_host",
                        violation_error_message="An SFTP clearinghouse needs a host.",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="controlnumbercounter",
                    constraint=models.UniqueConstraint(
                        fields=("organization", "clearinghouse", "submitter_id"),
                        name="controlcounter_org_ch_submitter_uniq",
                    ),
                ),
                migrations.AddIndex(
                    model_name="submissionbatch",
                    index=models.Index(
                        fields=["organization", "status", "created_at"], name="batch_org_status_idx"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="submissionbatch",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("interchange_control_number__isnull", False)),
                        fields=("organization", "clearinghouse", "interchange_control_number"),
                        name="batch_org_ch_isa13_uniq",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="submissionbatch",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("group_control_number__isnull", False)),
                        fields=("organization", "clearinghouse", "group_control_number"),
                        name="batch_org_ch_gs06_uniq",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="submissionbatch",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("progress_done__lte", models.F("progress_total"))),
                        name="batch_progress_within_total",
                    ),
                ),
                migrations.AddIndex(
                    model_name="claimrejection",
                    index=models.Index(
                        fields=["organization", "resolved_at"], name="rejection_org_open_idx"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="claimrejection",
                    constraint=models.UniqueConstraint(
                        fields=("organization", "acknowledgment", "claim"),
                        name="rejection_org_ack_claim_uniq",
                    ),
                ),
                migrations.AddIndex(
                    model_name="batchclaim",
                    index=models.Index(
                        fields=["organization", "claim"], name="batchclaim_org_claim_idx"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="batchclaim",
                    constraint=models.UniqueConstraint(
                        fields=("organization", "batch", "claim"),
                        name="batchclaim_org_batch_claim_uniq",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="acknowledgment",
                    constraint=models.UniqueConstraint(
                        fields=("organization", "sha256"), name="ack_org_sha_uniq"
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_submissions, content_types_to_claims),
    ]
