"""The cloudjudge web application (Django): the cloud service register and its
approval workflow, with the engine as its only source of judgements."""
