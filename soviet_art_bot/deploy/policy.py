"""The function's IAM documents: who may assume its role, and what it may do.

The grant of ``s3:ListBucket``, and why it carries no condition
--------------------------------------------------------------
The ledger and the slot records are created on first use, so the bot reads
keys under ``state/`` that do not exist yet and needs S3 to say 404 (the
object is missing), not 403 (access denied, which stops the post). S3's
GetObject and HeadObject references state the rule (Amazon S3 API
Reference, GetObject, "Permissions"):

    If the object that you request doesn't exist, the error that Amazon S3
    returns depends on whether you also have the s3:ListBucket permission.
    If you have the s3:ListBucket permission on the bucket, Amazon S3
    returns an HTTP status code 404 Not Found error. If you don't have the
    s3:ListBucket permission, Amazon S3 returns an HTTP status code 403
    Access Denied error.

The rule asks for the permission on the bucket, unqualified. The previous
policy granted it only under ``"StringLike": {"s3:prefix": [...]}``. The
Service Authorization Reference lists ``s3:prefix`` as a condition key of
ListBucket and ListBucketVersions requests only: it is the ``prefix``
parameter of a listing, and a GetObject request has none. IAM's rule for a
condition on a key missing from the request ("IAM JSON policy elements:
Condition operators"): "If the key that you specify in a policy condition
is not present in the request context, the values do not match", so the
condition is false. Whatever S3 evaluates when it decides between 403 and
404 for a GetObject carries no listing prefix, the conditional grant does
not apply, and a missing state object would be a 403. An ``...IfExists``
condition would pass a context without the key, but AWS does not document
which context that check builds, and a listing sent without a prefix would
pass it too, so it would be no narrower than no condition while resting on
an undocumented detail.

So ``s3:ListBucket`` is granted on the bucket ARN without a condition. What
that adds: the function may list key names (not read objects) anywhere in
the bucket; docs/operations.md says to give the bot a bucket of its own if
other key names there are private. Every object action stays scoped to the
store's prefix, and no action has a wildcard.
"""

from __future__ import annotations

from typing import Any

from .aws import Account
from .settings import DeployConfig


def trust_policy() -> dict[str, Any]:
    """Only Lambda may assume the function's role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def _s3_statements(config: DeployConfig, partition: str) -> list[dict[str, Any]]:
    p = f"{config.prefix}/" if config.prefix else ""
    bucket = f"arn:{partition}:s3:::{config.bucket}"
    gallery = [
        {  # ART_BOT_GALLERY: read the thumbnails and palettes, write the site
            "Sid": "RefreshGallery",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": [f"{bucket}/{p}gallery/*"],
        },
        {
            "Sid": "ReadThumbnails",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{bucket}/{p}thumbs/*"],
        },
    ]
    return [
        *(gallery if config.gallery else []),
        {
            "Sid": "ReadCollection",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{bucket}/{p}catalog.json", f"{bucket}/{p}images/*"],
        },
        {
            "Sid": "ReadWriteState",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": [f"{bucket}/{p}state/*"],
        },
        {
            # Unconditional on purpose: see the module's docstring.
            "Sid": "MissingStateIs404",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [bucket],
        },
    ]


def role_policy(config: DeployConfig, account: Account) -> dict[str, Any]:
    """The least the function needs, and nothing with a wildcard action.

    S3: read the catalog and images, read/write only ``state/``, and
    ListBucket for the 404 rule above. SSM: the parameters under the path.
    KMS: decrypt only through SSM, only for those parameters. Logs: its own
    log group (created by the deploy).
    """
    part, region, path = account.partition, config.region, config.ssm_path
    param = account.arn("ssm", f"parameter{path}")
    log_group = account.arn("logs", f"log-group:{config.log_group}:*")
    return {
        "Version": "2012-10-17",
        "Statement": [
            *_s3_statements(config, part),
            {
                "Sid": "ReadSecrets",
                "Effect": "Allow",
                "Action": ["ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter"],
                "Resource": [param, f"{param}/*"],
            },
            {
                "Sid": "DecryptSecretsViaSsm",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [account.arn("kms", "key/*")],
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"ssm.{region}.amazonaws.com"},
                    "StringLike": {"kms:EncryptionContext:PARAMETER_ARN": f"{param}/*"},
                },
            },
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [log_group],
            },
        ],
    }
