"""Zoo metadata: the model catalog (every net's facts) and slim's pretrained checkpoint table."""
