"""What a researcher looks at: leaderboards and the HTML report of runs, experiments and sweeps."""
