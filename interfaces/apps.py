from django.apps import AppConfig


class InterfacesConfig(AppConfig):
    name = "interfaces"
    verbose_name = "Interfaces (HL7 v2 inbound)"
    navigation = [("interfaces:held", "HL7 exceptions", "claims:write")]
