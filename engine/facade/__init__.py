"""The facade's parts, one per thing a person does with a library; `EnclaveService` (in
engine/service.py) opens the library and holds one of each."""
