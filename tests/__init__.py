"""The tests of warroom, one package per tier, and the kits they share (`tests.kit`)."""
