"""Training of the learned methods (RED-Net, SRCNN), kept apart from methods/ which only infers."""
