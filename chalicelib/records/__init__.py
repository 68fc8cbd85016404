"""Records with files: JSON metadata records that own buckets, as invenio-records-files."""
