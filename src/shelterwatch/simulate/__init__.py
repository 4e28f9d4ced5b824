"""`shelterwatch simulate`: a city's night played against the real server and worker."""
