namespace PythOn.Client;
