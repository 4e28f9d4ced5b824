"""Evidence about shelters (observations) and each shelter's derived status."""
