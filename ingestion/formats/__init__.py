"""What ingestion writes and checks: the slim tf.Example, image bytes (codec), integrity checks, TFRecord framing."""
