"""The serial link to a DUT: transport (pyserial URLs), the DUT client, the interface board,
device lists and deadlines."""
