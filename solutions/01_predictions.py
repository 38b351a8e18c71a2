my_predictions = [
    "RuntimeError: Cannot reopen a client instance, once it has been closed.",  # snippet 1
    "RuntimeError: Cannot open a client instance more than once.",  # snippet 2
    "RuntimeError: Cannot send a request, as the client has been closed.",  # snippet 3
    "works",  # snippet 4
    "RuntimeError: Cannot send a request, as the client has been closed.",  # snippet 5
]
for dropdown, prediction in zip(predictions, my_predictions, strict=True):
    dropdown.value = prediction  # the dropdowns above now show these answers too
