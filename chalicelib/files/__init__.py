"""Files: buckets, objects, uploads and the presigned URLs that carry their bytes."""
